"""The task pages shown in the middle of the main window."""
