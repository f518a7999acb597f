"""The service as a whole: settings, database, wiring of the rooms, the `caretaker` command."""
