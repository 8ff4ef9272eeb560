"""The figures every feature definition shares: windows, expiry, caps and graph parameters.

Windows and periods are whole days, never calendar months: ``as_of - 3 months`` means different
things on different engines around month ends, a day count means the same everywhere. A month
is 30 days and a year 365 days, for windows, tenures and expiry alike.
"""

from __future__ import annotations

from typing import Final

MONTH_DAYS: Final = 30
YEAR_DAYS: Final = 365

#: Look-back windows, in days.
WINDOW_3M: Final = 91
WINDOW_12M: Final = YEAR_DAYS
WINDOW_24M: Final = 2 * YEAR_DAYS

#: Negative records stop counting this many days after the date that makes them (see
#: docs/features.md): a missed payment three years after the day it became missed, a default
#: five years after it was reported, an unsatisfied judgment six years after it was entered, a
#: satisfied judgment two years after it was satisfied, rental incidents and negative partner
#: feedback two years after they happened.
EXPIRY_MISSED_PAYMENT: Final = 3 * YEAR_DAYS
EXPIRY_DEFAULT: Final = 5 * YEAR_DAYS
EXPIRY_OPEN_JUDGMENT: Final = 6 * YEAR_DAYS
EXPIRY_SATISFIED_JUDGMENT: Final = 2 * YEAR_DAYS
EXPIRY_INCIDENT: Final = 2 * YEAR_DAYS

#: A bill or installment not paid within this many days of its due date is a missed payment.
MISSED_AFTER_DAYS: Final = 30

#: Periods of 30 days looked at for income regularity and spending volatility.
PERIODS_12M: Final = 12

#: Money features count only amounts in this currency (minor units); amounts in any other
#: currency are left out rather than converted, since the ledger holds no exchange rates.
SCORING_CURRENCY: Final = "EUR"

#: The number of connections counts at most this many, so a large network cannot buy points.
CONNECTIONS_CAP: Final = 50

#: A connection's or group member's score is taken as of at least this many days before
#: ``as_of``, so that two members' scores never feed each other within one scoring run.
SCORE_LAG_DAYS: Final = 30

#: Personalised PageRank: restart probability and a fixed number of steps, so the value is
#: the same on every engine (no convergence test) and one member's value needs only the
#: neighbourhood within that many hops.
PAGERANK_RESTART: Final = 0.15
PAGERANK_STEPS: Final = 3

#: A weekly installment is a monthly burden of 52/12 installments (integer arithmetic).
WEEKS_PER_YEAR: Final = 52
MONTHS_PER_YEAR: Final = 12
