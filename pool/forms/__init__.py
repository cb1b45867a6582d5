"""Readers of the session forms sellers ship (issue 21): pure parsers over bytes, each returning
``core.session_forms.Extracted`` or raising ``core.errors.InvalidUpload`` with the admin's reason."""
