"""tribune: live questions, polls, moderation and video relay for hybrid conferences."""
