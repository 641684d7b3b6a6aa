"""The directory: people, roles, villages, groups, invites, onboarding and the directory YAML file."""
