"""Small dialogs: each a QDialog with a classmethod `ask(...)` returning the answer or None."""
