"""The one writer: staged files made durable and renamed into place, and the build lock."""
