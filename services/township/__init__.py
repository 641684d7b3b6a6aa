"""The township's desk: ranking its villages, a village's timeline, urging and rectification orders,
inspections, the console's sign-in, and exports. Every function re-checks that the person is an
inspector of the township concerned (services.township.access)."""
