"""The transactions recipe: how a log's columns map, and the SQL that turns lines into features.

Pure definitions (pydantic + text), no engine: :mod:`training.features` runs the SQL with
DuckDB. The rules, written once here:

* A line's value is ``amount``, or ``quantity x price`` when the log has no amount.
* A return is a line with a negative value, or any line of a cancelled order (its order id
  starts with ``cancelled_prefix``, as ``C536379`` in the public Online Retail logs); its
  value counts as ``-abs(value)``. Returns are netted against spend (``monetary`` never
  goes below 0) and measured as ``return_rate`` = returned value / bought value.
* An order is a distinct order id; without an order id, a customer's lines on one day are
  one order. Only purchase lines (value >= 0, not cancelled) make orders; an order's date
  (for recency, months, quarters, weekends) is the date of its first line.
* A line dated before 1900 or from 2200 on is rejected (``date: out of range``). A
  timestamp with a time zone is read in UTC, whatever the machine's zone.
* Lines on or after ``as_of`` are ignored (and counted); ``as_of`` defaults to the day after
  the last usable line. Money is summed as DECIMAL, so every path gets the same bits.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ALWAYS",
    "COLUMNS",
    "OPTIONAL",
    "RECIPE_VERSION",
    "Column",
    "TransactionsSpec",
    "features_sql",
    "lines_sql",
    "monthly_sql",
]

RECIPE_VERSION = 1
Column = Literal[
    "customer_id", "date", "amount", "quantity", "price", "order_id", "channel", "coupon"
]
COLUMNS: tuple[Column, ...] = (
    "customer_id",
    "date",
    "amount",
    "quantity",
    "price",
    "order_id",
    "channel",
    "coupon",
)
# Features every log gives, then those that need an optional column.
ALWAYS = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "mean_days_between_orders",
    "active_months",
    "return_rate",
    "peak_quarter_share",
    "q4_share",
    "weekend_share",
)
OPTIONAL: dict[str, Column] = {"online_share": "channel", "coupon_share": "coupon"}
MONEY = "DECIMAL(18, 4)"
EARLIEST, LATEST = "1900-01-01", "2200-01-01"  # a line dated outside is rejected


class TransactionsSpec(BaseModel):
    """The ``[transactions]`` section of a spec: header aliases per column, and the markers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer_id: tuple[str, ...] = ("customer_id", "CustomerID", "Customer ID", "customer")
    date: tuple[str, ...] = ("date", "InvoiceDate", "order_date", "timestamp", "datetime")
    amount: tuple[str, ...] = ("amount", "revenue", "total", "sales", "value")
    quantity: tuple[str, ...] = ("quantity", "Quantity", "qty")
    price: tuple[str, ...] = ("price", "UnitPrice", "Price", "unit_price")
    order_id: tuple[str, ...] = ("order_id", "InvoiceNo", "Invoice", "order")
    channel: tuple[str, ...] = ("channel", "source")
    coupon: tuple[str, ...] = ("coupon", "coupon_code", "discount", "promo")
    date_formats: tuple[str, ...] = Field(
        ("%m/%d/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y"),
        description="strptime formats tried after ISO 8601",
    )
    online_values: tuple[str, ...] = ("online", "web", "app", "ecommerce", "e-commerce")
    cancelled_prefix: str | None = "C"


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _value_expr(present: set[str]) -> str:
    if "amount" in present:
        return f"TRY_CAST(trim(amount) AS {MONEY})"
    quantity, price = (f"TRY_CAST(trim({name}) AS {MONEY})" for name in ("quantity", "price"))
    return f"CAST({quantity} * {price} AS DECIMAL(38, 8))"


def _not_money(text: str) -> str:
    """Why a non-empty ``text`` is not money: a finite number too big for it, or not a number."""
    number = f"TRY_CAST({text} AS DOUBLE)"
    return f"CASE WHEN isfinite({number}) THEN 'out of range' ELSE 'not a number' END"


def _reason_expr(present: set[str]) -> str:
    checks = [
        "WHEN customer_id IS NULL THEN 'customer_id: missing'",
        "WHEN date_text IS NULL THEN 'date: missing'",
        "WHEN ts IS NULL THEN 'date: cannot parse'",
        f"WHEN ts < TIMESTAMP '{EARLIEST}' OR ts >= TIMESTAMP '{LATEST}' THEN 'date: out of range'",
    ]
    if "amount" in present:
        checks.append("WHEN value IS NULL AND amount_text IS NULL THEN 'amount: missing'")
        checks.append(f"WHEN value IS NULL THEN 'amount: ' || {_not_money('amount_text')}")
    else:
        for name in ("quantity", "price"):
            checks.append(
                f"WHEN TRY_CAST(trim(raw_{name}) AS {MONEY}) IS NULL THEN "
                f"'{name}: ' || CASE WHEN nullif(trim(raw_{name}), '') IS NULL THEN 'missing' "
                f"ELSE {_not_money(f'trim(raw_{name})')} END"
            )
    return "CASE " + " ".join(checks) + " END"


def lines_sql(spec: TransactionsSpec, present: set[str], source: str) -> str:
    """Parse every line of ``source`` (text columns named as :data:`COLUMNS`, plus ``line``).

    Gives per line: the parsed fields, ``reason`` (NULL when the line is usable) and the
    flags the features need.
    """
    formats = "[" + ", ".join(_q(f) for f in spec.date_formats) + "]"
    date = "nullif(trim(date), '')"
    order = "nullif(trim(order_id), '')" if "order_id" in present else "NULL"
    prefix = spec.cancelled_prefix
    cancelled = (
        f"coalesce(starts_with({order}, {_q(prefix)}), false)"
        if prefix and "order_id" in present
        else "false"
    )
    online = (
        "lower(trim(channel)) IN (" + ", ".join(_q(v.lower()) for v in spec.online_values) + ")"
        if "channel" in present
        else "false"
    )
    coupon = (
        "coalesce(lower(trim(coupon)) NOT IN ('', '0', 'false', 'no', 'none', 'n'), false)"
        if "coupon" in present
        else "false"
    )
    amount_text = "nullif(trim(amount), '')" if "amount" in present else "NULL"
    raw = "".join(
        f", CASE WHEN reason IS NOT NULL THEN raw_{c} END AS raw_{c}" for c in sorted(present)
    )
    raw_inner = "".join(f", {c} AS raw_{c}" for c in sorted(present))
    return f"""
        SELECT line, customer_id, ts, value, order_text, cancelled, online, coupon, reason{raw}
        FROM (
            SELECT *, {_reason_expr(present)} AS reason
            FROM (
                SELECT line, nullif(trim(customer_id), '') AS customer_id, {date} AS date_text,
                       coalesce(TRY_CAST({date} AS TIMESTAMP), try_strptime({date}, {formats}))
                           AS ts,
                       {_value_expr(present)} AS value, {amount_text} AS amount_text,
                       {order} AS order_text, {cancelled} AS cancelled, {online} AS online,
                       {coupon} AS coupon{raw_inner}
                FROM {source}
            )
        )"""


def features_sql(present: set[str], lines: str, as_of: str) -> str:
    """Aggregate usable lines (``lines``: a relation from :func:`lines_sql`) per customer.

    ``as_of`` is a SQL expression of type DATE; lines on or after it are left out. Purchase
    lines are first summed per order (an order's date is its first line's date), so the
    customer level needs no DISTINCT aggregate: twice as fast as counting distinct orders.
    """
    optional = []
    if "channel" in present:
        optional.append(
            "CAST(coalesce(online_value, 0) AS DOUBLE) / nullif(CAST(gross AS DOUBLE), 0)"
            " AS online_share"
        )
    if "coupon" in present:
        optional.append("CAST(coupon_orders AS DOUBLE) / frequency AS coupon_share")
    extra = "".join(", " + o for o in optional)
    net = "greatest(gross - coalesce(returned, 0), 0)"
    return f"""
        WITH kept AS (
            SELECT customer_id, CAST(ts AS DATE) AS day, online, coupon,
                   CASE WHEN cancelled THEN -abs(value) ELSE value END AS signed,
                   NOT cancelled AND value >= 0 AS buy,
                   coalesce(order_text, strftime(ts, '%Y-%m-%d')) AS order_key
            FROM {lines}
            WHERE reason IS NULL AND CAST(ts AS DATE) < {as_of}
        ),
        orders AS (
            SELECT customer_id, order_key, min(day) AS day, sum(signed) AS value,
                   sum(signed) FILTER (online) AS online_value, bool_or(coupon) AS coupon
            FROM kept WHERE buy GROUP BY customer_id, order_key
        ),
        returns AS (
            SELECT customer_id, -sum(signed) AS returned
            FROM kept WHERE NOT buy GROUP BY customer_id
        ),
        per_customer AS (
            SELECT customer_id, count(*) AS frequency, sum(value) AS gross,
                   min(day) AS first_day, max(day) AS last_day,
                   count(DISTINCT date_trunc('month', day)) AS active_months,
                   coalesce(sum(value) FILTER (quarter(day) = 1), 0) AS s1,
                   coalesce(sum(value) FILTER (quarter(day) = 2), 0) AS s2,
                   coalesce(sum(value) FILTER (quarter(day) = 3), 0) AS s3,
                   coalesce(sum(value) FILTER (quarter(day) = 4), 0) AS s4,
                   count(*) FILTER (dayofweek(day) IN (0, 6)) AS weekend,
                   sum(online_value) AS online_value,
                   count(*) FILTER (coupon) AS coupon_orders
            FROM orders GROUP BY customer_id
        )
        SELECT p.customer_id,
               CAST(date_diff('day', last_day, {as_of}) AS DOUBLE) AS recency_days,
               CAST(frequency AS DOUBLE) AS frequency,
               CAST({net} AS DOUBLE) AS monetary,
               CAST({net} AS DOUBLE) / frequency AS avg_order_value,
               CAST(date_diff('day', first_day, {as_of}) AS DOUBLE) AS tenure_days,
               CASE WHEN frequency > 1
                    THEN CAST(date_diff('day', first_day, last_day) AS DOUBLE) / (frequency - 1)
               END AS mean_days_between_orders,
               CAST(active_months AS DOUBLE) AS active_months,
               CAST(coalesce(returned, 0) AS DOUBLE) / nullif(CAST(gross AS DOUBLE), 0)
                   AS return_rate,
               CAST(greatest(s1, s2, s3, s4) AS DOUBLE) / nullif(CAST(gross AS DOUBLE), 0)
                   AS peak_quarter_share,
               CAST(s4 AS DOUBLE) / nullif(CAST(gross AS DOUBLE), 0) AS q4_share,
               CAST(weekend AS DOUBLE) / frequency AS weekend_share
               {extra}
        FROM per_customer p LEFT JOIN returns r ON p.customer_id = r.customer_id
        ORDER BY p.customer_id"""


def monthly_sql(lines: str, as_of: str) -> str:
    """Net purchase spend per customer and calendar month (for the report's seasonality)."""
    return f"""
        SELECT customer_id, strftime(CAST(ts AS DATE), '%Y-%m') AS month,
               CAST(sum(value) AS DOUBLE) AS spend
        FROM {lines}
        WHERE reason IS NULL AND CAST(ts AS DATE) < {as_of} AND NOT cancelled AND value >= 0
        GROUP BY customer_id, month"""
