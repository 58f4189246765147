"""Reading command lines: tokens, quoted strings, key:value options, mentions, dates,
money and durations. Every failure is a UserError with a message a person can act on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from dateutil.relativedelta import relativedelta
from dateutil.relativedelta import weekday as rd_weekday

from bot.errors import UserError

MAX_LINE = 4000
# The longest value an option may have (`why:` of a decision); each command keeps its own,
# often tighter, limit. Checked before any pattern reads the value.
MAX_OPTION = 2000
TokenKind = Literal["word", "quoted", "option", "mention"]

OPEN_QUOTES = '"\u201c\u201e'
CLOSE_QUOTES = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201c"}
OPTION_RE = re.compile(r"^([a-z][a-z-]*):(.*)$", re.DOTALL)
SLACK_MENTION_RE = re.compile(r"^<@([A-Z0-9a-z_.:-]+)(?:\|([^>]*))?>$")
SLACK_MENTION_SPAN_RE = re.compile(r"<@[A-Z0-9a-z_.:-]+(?:\|[^>\n]{0,80})?>(?=\s|$)")
PLAIN_MENTION_RE = re.compile(r"^@([\w.\-]+)$")
# An option value that begins a phrase of words ("due:in 3 days", "due:next tuesday").
PHRASE_STARTS = {"in": 2, "next": 1}
# Unquoted date phrases an option takes whole ("due:march 1", "due:end of month"): the
# longest run of at most MAX_PHRASE_WORDS following words that still completes one of these.
MAX_PHRASE_WORDS = 4
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?,?"
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]{0,6}"
DATE_PHRASE_RE = re.compile(
    rf"^(?:{_MONTH} {_DAY}(?: \d{{4}})?|{_DAY}(?: of)? {_MONTH}(?: \d{{4}})?"
    rf"|(?:this|next) (?:{_WEEKDAY}|week|month)|end of (?:the )?(?:week|month|year)"
    r"|in \d{1,3} (?:working |business |work )?(?:day|days|week|weeks|month|months))$"
)
# "budget:20000 USD", "budget:USD 20,000": an amount and its currency as the next word.
AMOUNT_THEN_CODE_RE = re.compile(r"^[$\u20ac\u00a3\u00a5]?\d[\d,.]*[kKmM]? [A-Z]{3}$")
CODE_THEN_AMOUNT_RE = re.compile(r"^[A-Z]{3} \d[\d,.]*[kKmM]?$")


@dataclass(frozen=True, slots=True)
class Mention:
    """Someone named in a command: by platform id (`<@U123|ann>`) or by name (`@ann`)."""

    user_id: str | None
    name: str


@dataclass(slots=True)
class Token:
    kind: TokenKind
    value: str
    key: str = ""
    quoted: bool = False
    mention: Mention | None = None


def check_line(text: str) -> str:
    """Refuse what no command can be: very long lines and control characters."""
    if len(text) > MAX_LINE:
        raise UserError(f"That message is {len(text):,} characters; commands stop at {MAX_LINE:,}.")
    if any(ord(c) < 32 and c not in "\n\t\r" or 0x7F <= ord(c) < 0xA0 for c in text):
        raise UserError("That message has control characters in it; please type it again.")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise UserError("That message has broken characters in it; please type it again.")
    return text.strip()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        raw, quoted, i = _read_token(text, i)
        tokens.append(_classify(raw, quoted))
    return _join_phrases(tokens)


def _read_token(text: str, i: int) -> tuple[str, bool, int]:
    """Read one token; a quoted part may stand alone or follow `key:`."""
    n = len(text)
    platform_mention = SLACK_MENTION_SPAN_RE.match(text, i)
    if platform_mention:
        # `<@U1|Bob Stone>`: a platform mention whose display name may hold spaces.
        return platform_mention.group(0), False, platform_mention.end()
    parts: list[str] = []
    quoted = False
    while i < n and not text[i].isspace():
        if text[i] in OPEN_QUOTES:
            closing = CLOSE_QUOTES[text[i]]
            end = _find_closing(text, i + 1, closing)
            if end < 0:
                raise UserError('A quote is not closed: add the closing " and try again.')
            parts.append(text[i + 1 : end])
            quoted = True
            i = end + 1
        else:
            parts.append(text[i])
            i += 1
    return "".join(parts), quoted, i


def _find_closing(text: str, start: int, closing: str) -> int:
    for j in range(start, len(text)):
        if text[j] == closing or (closing != '"' and text[j] == '"'):
            return j
    return -1


def _classify(raw: str, quoted: bool) -> Token:
    if not quoted or not raw.startswith(("<@", "@")):
        match = OPTION_RE.match(raw)
        if match and not match.group(2).startswith("//"):
            return Token("option", match.group(2).strip(), key=match.group(1), quoted=quoted)
    if not quoted:
        slack = SLACK_MENTION_RE.match(raw)
        if slack:
            name = slack.group(2) or slack.group(1)
            return Token("mention", raw, mention=Mention(slack.group(1), name))
        plain = PLAIN_MENTION_RE.match(raw)
        if plain:
            return Token("mention", raw, mention=Mention(None, plain.group(1)))
    return Token("quoted" if quoted else "word", raw, quoted=quoted)


def _join_phrases(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        extra = PHRASE_STARTS.get(token.value.lower()) if token.kind == "option" else None
        if extra and not token.quoted and i + extra < len(tokens) + 0:
            following = tokens[i + 1 : i + 1 + extra]
            if len(following) == extra and all(t.kind == "word" for t in following):
                token.value = " ".join([token.value, *(t.value for t in following)])
                i += extra
        if token.kind == "option" and not token.quoted:
            taken = _phrase_words(token.value, tokens[i + 1 : i + 1 + MAX_PHRASE_WORDS])
            token.value = " ".join([token.value, *(t.value for t in tokens[i + 1 : i + 1 + taken])])
            i += taken
        out.append(token)
        i += 1
    return out


def _phrase_words(value: str, following: list[Token]) -> int:
    """How many of the following words complete `value` into a date or an amount."""
    words: list[str] = []
    for token in following:
        if token.kind != "word":
            break
        words.append(token.value)
    for count in range(len(words), 0, -1):
        phrase = " ".join([value, *words[:count]])
        if DATE_PHRASE_RE.match(phrase.lower()) or (
            count == 1 and (AMOUNT_THEN_CODE_RE.match(phrase) or CODE_THEN_AMOUNT_RE.match(phrase))
        ):
            return count
    return 0


@dataclass
class Args:
    """The arguments of one command; handlers take what they need, then `done()`."""

    tokens: list[Token]
    usage: str = ""
    used: set[int] = field(default_factory=set)

    @classmethod
    def parse(cls, text: str, usage: str = "") -> Args:
        return cls(tokenize(text), usage)

    def fail(self, message: str) -> UserError:
        return UserError(message, self.usage)

    def _free(self, *kinds: TokenKind) -> list[tuple[int, Token]]:
        return [(i, t) for i, t in enumerate(self.tokens) if i not in self.used and t.kind in kinds]

    def option(self, key: str) -> str | None:
        found = [(i, t) for i, t in self._free("option") if t.key == key]
        if len(found) > 1:
            raise self.fail(f"`{key}:` is given more than once.")
        if not found:
            return None
        index, token = found[0]
        self.used.add(index)
        if not token.value:
            raise self.fail(f"`{key}:` needs a value after the colon.")
        if len(token.value) > MAX_OPTION:
            raise self.fail(
                f"`{key}:` is {len(token.value):,} characters long; keep it under {MAX_OPTION:,}."
            )
        return token.value

    def required_option(self, key: str, what: str) -> str:
        value = self.option(key)
        if value is None:
            raise self.fail(f"Say {what} with `{key}:`.")
        return value

    def flag(self, name: str) -> bool:
        for index, token in self._free("word"):
            if token.value.lower() == name:
                self.used.add(index)
                return True
        return False

    def word(self, what: str | None = None) -> str | None:
        """The next bare word; required when `what` names it."""
        free = self._free("word")
        if not free:
            if what:
                raise self.fail(f"Missing {what}.")
            return None
        index, token = free[0]
        self.used.add(index)
        return token.value

    def number(self, what: str) -> int:
        value = self.word(what)
        assert value is not None
        text = value.lstrip("#")
        if not text.isdigit() or len(text) > 9:
            raise self.fail(f"{what.capitalize()} should be a number like 3, not `{value}`.")
        return int(text)

    def text(self, what: str | None = None) -> str | None:
        """A quoted string, or else the remaining bare words joined; required with `what`."""
        quoted = self._free("quoted")
        if quoted:
            index, token = quoted[0]
            self.used.add(index)
            value = token.value.strip()
        else:
            words = self._free("word")
            self.used.update(i for i, _ in words)
            value = " ".join(t.value for _, t in words).strip()
        if not value:
            if what:
                raise self.fail(f'Missing {what}: put it in quotes, like "{what}".')
            return None
        if len(value) > 500:
            raise self.fail(f"That {what or 'text'} is {len(value)} characters; keep it under 500.")
        return value

    def as_typed(self, what: str) -> str:
        """The next quoted string, word or option exactly as typed: a URL such as
        `https://x.test/a` reads as the option `https:` otherwise."""
        free = self._free("quoted", "word", "option")
        if not free:
            raise self.fail(f"Missing {what}.")
        index, token = free[0]
        self.used.add(index)
        return f"{token.key}:{token.value}" if token.kind == "option" else token.value

    def mentions(self) -> list[Mention]:
        free = self._free("mention")
        self.used.update(i for i, _ in free)
        return [t.mention for _, t in free if t.mention]

    def mention(self, what: str | None = None) -> Mention | None:
        free = self._free("mention")
        if not free:
            if what:
                raise self.fail(f"Name {what} with an @mention.")
            return None
        index, token = free[0]
        self.used.add(index)
        return token.mention

    def rest(self) -> list[Token]:
        return [t for i, t in enumerate(self.tokens) if i not in self.used]

    def done(self) -> None:
        left = self.rest()
        if left:
            shown = " ".join(_show(t) for t in left[:5])
            raise self.fail(f"I did not understand `{shown}`.")


def _show(token: Token) -> str:
    if token.kind == "option":
        return f'{token.key}:"{token.value}"' if token.quoted else f"{token.key}:{token.value}"
    return f'"{token.value}"' if token.quoted else token.value


# --- dates ------------------------------------------------------------------------------

WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
IN_RE = re.compile(r"^in (\d{1,4}) (day|days|week|weeks|month|months)$")
UNIT = {"day": "days", "week": "weeks", "month": "months"}


def parse_date(text: str, today: date) -> date:
    """`2026-12-04`, `today`, `tomorrow`, `fri` (this coming Friday, today included),
    `next tuesday` (the first Tuesday after today), `in 3 days`, `in 2 weeks`."""
    value = re.sub(r"[-_\s]+", " ", text.strip().lower()) if not _looks_iso(text) else text.strip()
    if _looks_iso(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise UserError(f"`{text}` is not a real date.") from None
    if value == "today":
        return today
    if value == "tomorrow":
        return today + timedelta(days=1)
    if value in WEEKDAYS:
        return today + relativedelta(weekday=rd_weekday(WEEKDAYS[value]))
    if value.startswith("next ") and value[5:] in WEEKDAYS:
        return today + timedelta(days=1) + relativedelta(weekday=rd_weekday(WEEKDAYS[value[5:]]))
    if value == "next week":
        return today + timedelta(days=7)
    match = IN_RE.match(value)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        return today + relativedelta(**{UNIT[unit.rstrip("s")]: count})
    raise UserError(
        f"I can't read `{text}` as a date. "
        "Try 2026-12-04, fri, tomorrow, in 3 days or next tuesday."
    )


def _looks_iso(text: str) -> bool:
    return bool(re.match(r"^\d{4}-\d{1,2}-\d{1,2}$", text.strip()))


def parse_date_range(text: str, today: date) -> tuple[date, date]:
    """`2026-12-24..2027-01-02`, or one date for a single day."""
    first, sep, last = text.partition("..")
    start = parse_date(first, today)
    end = parse_date(last, today) if sep else start
    if end < start:
        raise UserError(f"`{text}` ends before it starts.")
    if (end - start).days > 366:
        raise UserError("That range is longer than a year.")
    return start, end


def parse_timezone(text: str) -> str:
    name = text.strip()
    if not re.match(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$", name):
        raise UserError(f"`{text}` is not a time zone. Use a name like Europe/Berlin.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UserError(
            f"`{text}` is not a time zone I know. Use a name like Europe/Berlin."
        ) from None
    return name


def parse_clock(text: str) -> str:
    """A wall-clock time `09:30` (or `9:30`, `9am`), returned as `HH:MM`."""
    value = text.strip().lower()
    match = re.match(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", value)
    if not match:
        raise UserError(f"`{text}` is not a time of day. Use 24-hour time like 09:30.")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if match.group(3):
        if not 1 <= hour <= 12:
            raise UserError(f"`{text}` is not a time of day.")
        hour = hour % 12 + (12 if match.group(3) == "pm" else 0)
    if hour > 23 or minute > 59:
        raise UserError(f"`{text}` is not a time of day.")
    return f"{hour:02d}:{minute:02d}"


# --- money -------------------------------------------------------------------------------

SYMBOLS = {"$": "USD", "\u20ac": "EUR", "\u00a3": "GBP", "\u00a5": "JPY"}
MONEY_RE = re.compile(
    r"^(?P<pre>[A-Za-z]{3}|[$\u20ac\u00a3\u00a5])?\s*(?P<num>\d[\d,]*(?:\.\d+)?)"
    r"(?P<mult>[kKmM])?\s*(?P<post>[A-Za-z]{3})?$"
)
MAX_AMOUNT = Decimal("1000000000")
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str | None


def parse_currency(text: str) -> str:
    code = SYMBOLS.get(text, text.strip().upper())
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise UserError(f"`{text}` is not an ISO 4217 currency code like USD or EUR.")
    return code


def parse_money(text: str, *, allow_zero: bool = False) -> Money:
    """`12,500`, `$1.2k`, `EUR 900`, `900 EUR`, `1.5m`: a Decimal exact to the cent."""
    value = text.strip()
    if value.startswith("-"):
        raise UserError(f"`{text}`: amounts can't be negative.")
    match = MONEY_RE.match(value)
    if not match:
        raise UserError(f"I can't read `{text}` as an amount. Try 12,500 or $1.2k or EUR 900.")
    if match.group("pre") and match.group("post"):
        raise UserError(f"`{text}` names two currencies.")
    number = match.group("num")
    if "," in number and not re.match(r"^\d{1,3}(,\d{3})+(\.\d+)?$", number):
        raise UserError(f"`{text}`: use commas only between thousands, like 12,500.")
    try:
        amount = Decimal(number.replace(",", ""))
    except InvalidOperation:
        raise UserError(f"I can't read `{text}` as an amount.") from None
    multiplier = {"k": 1000, "m": 1000000}.get((match.group("mult") or "").lower(), 1)
    amount *= multiplier
    if amount > MAX_AMOUNT:
        raise UserError(f"`{text}` is more than I can believe for one project.")
    if amount != amount.quantize(CENT):
        raise UserError(f"`{text}` has fractions of a cent; amounts are exact to the cent.")
    if amount == 0 and not allow_zero:
        raise UserError("The amount must be more than zero.")
    currency_text = match.group("pre") or match.group("post")
    currency = parse_currency(currency_text) if currency_text else None
    return Money(amount.quantize(CENT), currency)


# --- durations ---------------------------------------------------------------------------

DURATION_PART = re.compile(
    r"(\d+(?:\.\d+)?)(minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d)"
)
# What people write instead of units: "1:30", "1h30", "half a day", "half an hour".
DURATION_FORMS = (
    (re.compile(r"^(\d{1,3}):([0-5]\d)$"), r"\1h\2m"),
    (re.compile(r"^(\d{1,3})h([0-5]?\d)$"), r"\1h\2m"),
    (re.compile(r"^(?:a)?half(?:an?)?(day|hour)$"), r"0.5\1"),
)
# `1h30m` is at most a few parts: longer text is no duration, and is refused unread.
MAX_DURATION = 40
MAX_HOURS = Decimal("200")


def parse_duration(text: str, day_hours: Decimal = Decimal("8")) -> Decimal:
    """`90m`, `1.5h`, `1h30m`, `2d` (a day is the project's working day), and as people write
    them: `90 minutes`, `1h30`, `1:30`, `half a day`, `2 days`: hours, as Decimal."""
    value = text.strip().lower().replace(" ", "")
    if len(value) <= MAX_DURATION:
        for form, canonical in DURATION_FORMS:
            value = form.sub(canonical, value)
    parts = _duration_parts(value) if len(value) <= MAX_DURATION else None
    if not parts:
        raise UserError(f"I can't read `{text[:MAX_DURATION]}` as a duration. Try 90m, 1.5h or 2d.")
    hours = Decimal("0")
    for number, unit in parts:
        amount = Decimal(number)
        if unit.startswith("m"):
            hours += amount / 60
        elif unit.startswith("d"):
            hours += amount * day_hours
        else:
            hours += amount
    # Exact to the second, so that cost = hours x rate is exact to the cent (20m = 1/3 h).
    hours = hours.quantize(Decimal("0.000001"))
    if hours <= 0:
        raise UserError("A duration must be more than zero.")
    if hours > MAX_HOURS:
        raise UserError(f"`{text}` is more than {MAX_HOURS} hours; split it into smaller entries.")
    return hours


def _duration_parts(value: str) -> list[tuple[str, str]] | None:
    """The (number, unit) parts that make up all of `value`, read left to right: each
    match starts where the last ended, so a digit run is read once (findall would try it
    from every position, quadratic in its length)."""
    parts: list[tuple[str, str]] = []
    position = 0
    while position < len(value):
        match = DURATION_PART.match(value, position)
        if not match:
            return None
        parts.append((match.group(1), match.group(2)))
        position = match.end()
    return parts
