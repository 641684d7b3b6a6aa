"""YAML data only; a package so setuptools ships the *.yaml files beside it (package-data "*.yaml")."""
