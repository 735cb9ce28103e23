"""Data packages between PCs: what travels, the package file, the three-way merge."""
