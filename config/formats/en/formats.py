# Saring's dates and times read the same on every page and in both languages: "3 Dec 2026
# 19:14" (English), "3 Des 2026 19:14" (Indonesian), 24-hour WIB. Templates use these names
# (|date:"DATETIME_FORMAT", |date:"DATE_FORMAT"), never a format of their own; CSV, JSON and
# the API stay ISO 8601. Anything not set here (input formats, separators) is Django's.
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
