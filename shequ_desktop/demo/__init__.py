"""Generated demo data: a believable street, its volunteers and the community's own workflows."""
