"""The live video relay (WHIP ingest from the studio, WHEP playback for participants) lives here.

It is added with the live-video work; the participant page already reserves the player's place
(`#player`), and routes for `/sessions/{session}/whip` and `/whep` will join `live/app.py`.
"""
