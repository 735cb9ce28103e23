"""Small reusable widgets (charts drawn with QPainter)."""
