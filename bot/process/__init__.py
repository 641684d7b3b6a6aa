"""The long-running process: start-up, polling or webhook, leadership, and the ONE wiring of the Dispatcher."""
