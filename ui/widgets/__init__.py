"""Small reusable widgets: charts drawn with QPainter, the resident picker of events."""
