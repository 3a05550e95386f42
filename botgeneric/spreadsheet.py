"""CSV cells a spreadsheet will not run as formulas. Text that people typed (names, notes, messages) and that
starts like a formula (=, +, -, @, a tab or a carriage return) gets a leading `'`; a phone number (digits and
+ - ( ) . and spaces only, nothing a formula could call) is left as it is."""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PHONE = re.compile(r"\+?[\d\s().-]+")


def safe_text(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) and not _PHONE.fullmatch(text) else text
