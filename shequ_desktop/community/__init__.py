"""The community's own workflows: micro-grids and their heads (微网实格), the site plan (以图管房),
meetings (议事协商), check-ups (社区体检), the follow-ups they hand to events, and the files they keep
(media.py)."""
