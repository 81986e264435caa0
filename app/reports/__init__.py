"""The daily report (一日一报): gathered from the store (``daily``), as JSON (``model``), a
printable Chinese page (``page``) and a CSV of the hub table (``table``); the hourly rows it
reads are written from the event-time steps (``recorder``)."""
