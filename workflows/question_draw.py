"""Randomised questions (kyc.regulations.RANDOMISED_QUESTIONS): the questions
a participant is asked, drawn from their business's question bank when their
steps are created.

The draw is spread across categories (one from each category in turn, the
categories in random order, before a second from any), so a call never asks
three variations of one question; the drawn questions are then put in random
order. Randomness is the operating system's (secrets.SystemRandom): a
customer who has seen one call must not be able to predict the next.
"""

import secrets
from collections import defaultdict

from workflows.models import BankQuestion

_random = secrets.SystemRandom()


def bank_questions_draw(*, business, count: int) -> list[BankQuestion]:
    """Up to ``count`` of the business's active bank questions, spread across
    categories, in random order (fewer when the bank holds fewer)."""
    by_category: dict[str, list[BankQuestion]] = defaultdict(list)
    for question in BankQuestion.objects.for_business(business).filter(active=True):
        by_category[question.category.strip().casefold()].append(question)
    pools = list(by_category.values())
    for pool in pools:
        _random.shuffle(pool)
    _random.shuffle(pools)
    drawn: list[BankQuestion] = []
    while len(drawn) < count and any(pools):
        for pool in pools:
            if pool and len(drawn) < count:
                drawn.append(pool.pop())
    # Round-robin order would reveal the category pattern: shuffle the result.
    _random.shuffle(drawn)
    return drawn
