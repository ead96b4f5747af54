"""The organiser's reports: per session and for the whole event, as XLSX, CSV and JSON.

Pure (no I/O): `tables` builds the rows in the reader's language and the event's time zone,
`polls` gives each poll kind's results, `render` writes XLSX and CSV, `archive` the versioned JSON.
The web layer (live/web/reports.py) gathers the states and attendance and answers the requests.
"""
