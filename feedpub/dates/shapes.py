"""The grammar of printed dates: the patterns, the word tables and the hints errors end with.

Everything here is data, compiled once at import: the reader (reader.py,
pieces.py) matches these patterns and looks words up in these tables, and
the writer (writing.py) prints the same English names. Keeping the grammar
apart from the code that applies it lets a new shape be added, and reviewed,
in one place. Patterns for a general date string are matched
case-insensitively.
"""
from __future__ import annotations

import re

# --- words and hints -------------------------------------------------------

EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
MONTH_NUMBERS = {name[:3].lower(): number for number, name in enumerate(EN_MONTHS, 1)}

HINT_ANY = (
    "expected a date such as 02/12/2021 - 23:30, 2021-12-02T23:30:00+07:00 "
    "or December 2, 2021 11:30 PM"
)
HINT_NUMERIC = {"dmy": "expected DD/MM/YYYY [HH:MM]", "mdy": "expected MM/DD/YYYY [HH:MM]"}
HINT_YMD = "expected YYYY-MM-DD[THH:MM[:SS]][+HH:MM]"
HINT_VN = "expected ngày D tháng M năm YYYY [HH:MM]"
HINT_EN = "expected Month D, YYYY or D Month YYYY [HH:MM]"
HINT_RFC822 = (
    "expected RFC 822's [Day, ]DD Mon YY HH:MM[:SS] +HHMM, whose two-digit year needs the time and "
    "offset with it, or D Month YYYY [HH:MM]"
)
HINT_TIME = "expected HH:MM from 00:00 to 23:59"
HINT_12H = "expected an hour from 1 to 12 before AM/PM, SA/CH"
HINT_OFFSET = "expected an offset from -12:00 to +14:00, such as +07:00, GMT+7 or UTC-5"
HINT_STAMP = "expected a string, or a Unix timestamp in seconds as a JSON number"
HINT_DIGITS = (
    "expected YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, or a Unix timestamp in seconds"
)
HINT_RANGE = "expected a date from the year 1000 to 9999, in UTC and in the site zone too"
HINT_ABSOLUTE = "expected the date itself, such as 02/12/2021 - 23:30 or 2021-12-02T23:30:00+07:00"
HINT_PLACEHOLDER = "expected a real date such as 02/12/2021 - 23:30"
OTHER_ORDER = {
    "dmy": ("mdy", "month-first", "month first"),
    "mdy": ("dmy", "day-first", "day first"),
}

# --- fast shapes: ISO 8601 and the site's DD/MM/YYYY - HH:MM ---------------

FAST_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]|\Z)")
# The offset ending an ISO 8601 string, well formed: Z, ±HH, ±HHMM, ±HH:MM (seconds allowed).
ISO_OFFSET_TAIL = re.compile(r"[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9](?::?[0-5][0-9](?:\.[0-9]+)?)?)?\Z")
FAST_PAGE = re.compile(
    r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})"
    r"(?:(?: - |, | )([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?"
    r"(?: \((?:GMT|UTC)([+-])([0-9]{1,2})\)| (?:GMT|UTC)([+-])([0-9]{1,2}))?)?"
)

# --- pieces of a general date string (matched case-insensitively) ----------

WEEKDAY = re.compile(
    r"(?<!\w)(?:"
    r"thứ\s?(?:hai|ba|tư|bốn|năm|sáu|bảy|bẩy|[2-7])|chủ\s?nhật|chủ\s?nhựt"
    r"|thu\s?(?:hai|ba|tu|nam|sau|bay)|chu\s?nhat"
    r"|t[2-7]|cn"
    r"|mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
    r")\.?(?!\w)",
    re.I,
)
WEEKDAY_NUMBERS = {
    "thứhai": 0, "thứba": 1, "thứtư": 2, "thứbốn": 2, "thứnăm": 3, "thứsáu": 4,
    "thứbảy": 5, "thứbẩy": 5, "chủnhật": 6, "chủnhựt": 6,
    "thuhai": 0, "thuba": 1, "thutu": 2, "thunam": 3, "thusau": 4, "thubay": 5,
    "chunhat": 6, "cn": 6,
    **{f"thứ{n}": n - 2 for n in range(2, 8)},
    **{f"t{n}": n - 2 for n in range(2, 8)},
    **{name[:3].lower(): number for number, name in enumerate(EN_DAYS)},
}

# GMT/UTC/UT with an optional signed offset (H, HH, H:MM, HH:MM or HHMM), or ICT. JavaScript's
# Date.toString() follows GMT+HHMM with the zone's name in parentheses: a label, not read; where
# the system knows no name, the label is the offset again, "(GMT+07:00)", which must agree.
NAMED_OFFSET = re.compile(
    r"\(?\s?(?<![^\W\d_])(?:"
    r"(?P<base>gmt|utc|ut)(?![^\W\d_])"
    r"(?:\s?(?P<sign>[+\-\u2212\u2013])\s?"
    r"(?:(?P<hh>[0-9]{2})(?P<mm>[0-9]{2})|(?P<h>[0-9]{1,2})(?::(?P<m>[0-9]{2}))?)(?![0-9])"
    r"(?:\s?\((?:(?P<label>[^\W\d_](?:[^\W\d_]|[ .'\u2019-]){0,60})"
    r"|(?:gmt|utc)(?P<lsign>[+\-\u2212])(?P<lh>[0-9]{2}):?(?P<lm>[0-9]{2}))\))?)?"
    r"|(?P<ict>ict)(?![^\W\d_])"
    r")\s?\)?",
    re.I,
)

TIME = re.compile(
    r"""
    (?<![0-9:+\u2212])(?<![0-9]-)
    (?P<h>[0-9]{1,2})
    (?:
        :(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]+))?)?(?![0-9])
      | \s?(?:giờ|h|g)(?:\s?(?P<m2>[0-9]{1,2})(?:\s?(?:phút|p))?)?(?!\w)
      | (?=\s?[ap]\.?m(?![^\W\d_]))
    )
    (?:\s?(?P<ampm>[ap]\.?m\.?(?![^\W\d_])|(?:sa|ch|sáng|chiều|tối)(?!\w)))?
    (?:\s?(?P<sign>[+\-\u2212])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?(?![0-9/.\-:])
      | (?P<z>z)(?!\w))?
    """,
    re.I | re.X,
)
PM_WORDS = frozenset({"pm", "ch", "chiều", "tối"})

MONTH_NAME = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
    r"(?![^\W\d_])\.?"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
# Numbers in the site's declared order: a/b are day/month ("dmy") or month/day ("mdy").
NUMERIC = re.compile(r"(?<![0-9])(?P<a>[0-9]{1,2})([/.-])(?P<b>[0-9]{1,2})\2(?P<y>[0-9]{4})(?![0-9])")
DATE_SHAPES = (
    (NUMERIC, None),
    (re.compile(r"(?<![0-9])(?P<y>[0-9]{4})([/.-])(?P<m>[0-9]{1,2})\2(?P<d>[0-9]{1,2})(?![0-9])"), HINT_YMD),
    (re.compile(
        r"(?<![0-9])(?P<d>[0-9]{1,2})\s?(?:tháng|thg\.?)\s?(?P<m>[0-9]{1,2})(?:\s?năm\s?|\s?,\s?|\s|/)"
        r"(?P<y>[0-9]{4})(?![0-9])",
        re.I), HINT_VN),
    (re.compile(
        r"(?<!\w)(?:tháng|thg)\s?(?P<m>[0-9]{1,2})\s(?P<d>[0-9]{1,2}),?\s?(?P<y>[0-9]{4})(?![0-9])",
        re.I), HINT_VN),
    (re.compile(
        rf"(?<![0-9])(?P<d>[0-9]{{1,2}}){_ORDINAL}(?:\s?of\s|\s|-)?{MONTH_NAME}(?:,?\s?|-)(?P<y>[0-9]{{4}})(?![0-9])",
        re.I), HINT_EN),
    (re.compile(
        rf"(?<!\w){MONTH_NAME}(?:\s|-)?(?P<d>[0-9]{{1,2}}){_ORDINAL}(?:,\s?|\s|-)(?P<y>[0-9]{{4}})(?![0-9])",
        re.I), HINT_EN),
)
# Months in words after "tháng" (Windows' vi-VN long dates: "02 Tháng Mười Hai 2021"; the lunar
# names Giêng and Chạp for the first and last month): read as the month's number.
VN_MONTH_WORD = re.compile(
    r"(?<!\w)(?:tháng|thg\.?)\s?(?P<word>mười\s?một|mười\s?hai|mười|giêng|chạp|một|hai|ba|tư|bốn|năm"
    r"|sáu|bảy|bẩy|tám|chín)(?!\w)",
    re.I,
)
VN_MONTH_NUMBERS = {
    "một": 1, "giêng": 1, "hai": 2, "ba": 3, "tư": 4, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "bẩy": 7,
    "tám": 8, "chín": 9, "mười": 10, "mườimột": 11, "mườihai": 12, "chạp": 12,
}
# ISO 8601 basic format, as analytics and .NET "s"-less stamps write it: 20260307T000500[Z|+0700]
ISO_BASIC = re.compile(
    r"(?P<date>[0-9]{8})T(?P<hh>[0-9]{2})(?P<mi>[0-9]{2})(?P<ss>[0-9]{2})?(?:[.,](?P<f>[0-9]+))?"
    r"(?:(?P<z>Z)|(?P<sign>[+-])(?P<h>[0-9]{2})(?::?(?P<m>[0-9]{2}))?)?",
    re.I,
)
SHORT_YEAR = re.compile(r"(?<![0-9])[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2}(?![0-9])")
# RFC 822's date-time with a two-digit year, as RSS feeds still print it ("Sat, 05 Sep 26 17:09:00
# +0700"), matched against the whole normalised string: RFC 2822 §4.3 reads its obs-year, 00-49 as
# 20xx and 50-99 as 19xx. Only this shape: [weekday,] day, month abbreviation, year, time, zone.
_RFC822_DAYS = r"mon|tue|wed|thu|fri|sat|sun"
_RFC822_MONTHS = r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
RFC822_SHORT_YEAR = re.compile(
    rf"(?:(?P<dow>{_RFC822_DAYS}) ?, ?)?(?P<d>[0-9]{{1,2}}) (?P<mon>{_RFC822_MONTHS}) (?P<y>[0-9]{{2}}) "
    r"(?P<hh>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<ss>[0-9]{2}))? "
    r"(?:(?P<sign>[+-])(?P<h>[0-9]{2})(?P<m>[0-9]{2})|(?P<z>gmt|ut|utc|z))",
    re.I,
)
RFC822_LIKE = re.compile(rf"(?<!\w)[0-9]{{1,2}} (?:{_RFC822_MONTHS}) [0-9]{{2}}(?!\w)", re.I)

NOISE = re.compile(
    r"(?:[\s,;|()\[\]./·•:\-\u2013\u2014]"
    r"|(?<!\w)(?:lúc|ngày|vào|đăng|cập nhật|at|on|t|published|updated|posted)(?!\w))*",
    re.I,
)
NOISE_EDGES = " ,;|()[]./·•:-\u2013\u2014"
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))

# "5h trước", "19 giờ trước", "1 hour 27 min ago", "vừa xong", "hôm qua", "yesterday": times that
# move with the clock of whoever reads the page.
RELATIVE = re.compile(
    r"(?<!\w)(?:"
    r"(?:(?:[0-9]+|an?|một|vài|mấy)\s?[^\W\d_]+\.?\s?){1,3}(?:trước|ago)"
    r"|cách\s?đây(?:\s(?:khoảng|hơn|gần|chừng|độ))?\s(?:[0-9]+|một|vài|mấy|nửa)\s?[^\W\d_]+"
    r"|vừa\s(?:xong|mới|đăng|cập\snhật)|mới\s(?:đây|đăng|cập\snhật)|just\snow|moments?\sago"
    r"|hôm\s(?:qua|nay|kia)|(?:sáng|trưa|chiều|tối|đêm)\s(?:qua|nay)|(?:tuần|tháng)\s(?:trước|này|qua)"
    r"|năm\s(?:ngoái|nay)|yesterday|today|tonight|last\s(?:night|week|month|year)"
    r")(?!\w)",
    re.I,
)
# An amount of time and nothing else ("85 ngày", "3 giờ", "2 hours"): a relative time whose "trước"
# or "ago" was cut off, never a date.
RELATIVE_AMOUNT = re.compile(
    r"(?:[0-9]+|một|vài|mấy|an?)\s?(?:giây|phút|giờ|tiếng|ngày|tuần|tháng|năm"
    r"|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|mos?|months?|y|yrs?|years?)\.?",
    re.I,
)

# --- English prose, handed to python-dateutil ------------------------------

PROSE = re.compile(r"[a-z]{3,}", re.I)
PROSE_MONTH = re.compile(r"(?<![^\W\d_])" + MONTH_NAME, re.I)
NUMBERS_WITH_SEPARATOR = re.compile(r"[0-9]\s?[/.\-]\s?[0-9]")
NUMERIC_OFFSET = re.compile(r"(?<=\d)\s?(?P<sign>[+-])(?P<h>[0-9]{2}):?(?P<m>[0-9]{2})\b")
