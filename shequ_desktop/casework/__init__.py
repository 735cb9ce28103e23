"""Work done for people: focus-group visits, events in their closed loop, 一老一小 services."""
