"""The note staff write when they take an item off a call queue."""

from __future__ import annotations

from django import forms

NOTE_NEEDED = "Write a short note saying what happened."
NOTE_TOO_LONG = "Keep the note to %(limit_value)d characters (it has %(show_value)d)."


class QueueNoteForm(forms.Form):
    note = forms.CharField(max_length=300, error_messages={"required": NOTE_NEEDED, "max_length": NOTE_TOO_LONG})

    def __init__(self, *args, needs_note: str = NOTE_NEEDED, **kwargs):
        super().__init__(*args, **kwargs)
        # Each queue says what its note should tell (the service's own message).
        self.fields["note"].error_messages["required"] = needs_note
