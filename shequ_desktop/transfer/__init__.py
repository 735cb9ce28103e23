"""Files in and out: importing registers, exporting and filling upload templates, copying rows."""
