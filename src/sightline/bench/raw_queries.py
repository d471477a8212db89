"""The raw path: the same numbers as the stats endpoints, in plain SQL over the `event` table only.

No session table and no rollups: sessions are grouped from their events on the fly (first
event's attributes, first and last pageview), as a dashboard API without derived tables has to.
Scenario 4 times these against the product's cold queries for the same range, for the ratio.
Parameters: :project_id, :lo and :hi (the range's instants, hi exclusive), :tz.
"""

from sqlalchemy import TextClause, text

IN_RANGE = "project_id = :project_id AND ts >= :lo AND ts < :hi"

# Sessions that start in the range, from every event they have (sessions last far less than the
# day of margin read on each side).
SESSIONS = """
sessions AS (
    SELECT visitor_id, min(visitor_key) AS visitor_key, min(ts) AS started,
           extract(epoch FROM max(ts) - min(ts)) AS duration,
           count(*) FILTER (WHERE name = 'pageview') AS pageviews, count(*) AS events,
           (array_agg(path ORDER BY ts) FILTER (WHERE name = 'pageview'))[1] AS entry_page,
           (array_agg(path ORDER BY ts DESC) FILTER (WHERE name = 'pageview'))[1] AS exit_page,
           (array_agg(source ORDER BY ts))[1] AS source,
           (array_agg(referrer ORDER BY ts))[1] AS referrer,
           (array_agg(country ORDER BY ts))[1] AS country,
           (array_agg(device ORDER BY ts))[1] AS device,
           (array_agg(browser ORDER BY ts))[1] AS browser,
           (array_agg(os ORDER BY ts))[1] AS os,
           (array_agg(utm_source ORDER BY ts))[1] AS utm_source
    FROM event
    WHERE project_id = :project_id AND ts >= CAST(:lo AS timestamptz) - interval '1 day'
      AND ts < CAST(:hi AS timestamptz) + interval '1 day'
    GROUP BY visitor_id, session_key
),
started AS (SELECT * FROM sessions WHERE started >= :lo AND started < :hi)"""

SESSION_METRICS = """count(DISTINCT visitor_key) AS visitors, count(*) AS visits,
       round(100.0 * avg(CASE WHEN pageviews = 1 AND events = 1 THEN 1 ELSE 0 END), 1)
           AS bounce_rate,
       round(avg(duration)) AS visit_duration"""


def session_list(dimension: str) -> TextClause:
    return text(f"""WITH {SESSIONS}
SELECT {dimension}, {SESSION_METRICS}
FROM started WHERE {dimension} IS NOT NULL
GROUP BY {dimension} ORDER BY visitors DESC, {dimension} COLLATE "C" LIMIT 100""")


RAW_QUERIES: dict[str, TextClause] = {
    "overview": text(f"""WITH {SESSIONS},
events AS (
    SELECT count(DISTINCT visitor_key) AS visitors,
           count(*) FILTER (WHERE name = 'pageview') AS pageviews, count(*) AS events,
           coalesce(sum(revenue), 0) AS revenue
    FROM event WHERE {IN_RANGE}
)
SELECT events.*, s.visits, s.bounce_rate, s.visit_duration, s.views_per_visit
FROM events, (SELECT count(*) AS visits,
                     round(100.0 * avg(CASE WHEN pageviews = 1 AND events = 1 THEN 1 ELSE 0 END), 1)
                         AS bounce_rate,
                     round(avg(duration)) AS visit_duration,
                     round(avg(pageviews), 2) AS views_per_visit
              FROM started) s"""),
    "timeseries": text(f"""
SELECT date_trunc('day', ts AT TIME ZONE :tz) AS date, count(DISTINCT visitor_key) AS visitors,
       count(*) FILTER (WHERE name = 'pageview') AS pageviews
FROM event WHERE {IN_RANGE}
GROUP BY 1 ORDER BY 1"""),
    "pages": text(f"""
SELECT path AS page, count(DISTINCT visitor_key) AS visitors, count(*) AS pageviews
FROM event WHERE {IN_RANGE} AND name = 'pageview'
GROUP BY path ORDER BY visitors DESC, path COLLATE "C" LIMIT 100"""),
    "entry-pages": session_list("entry_page"),
    "exit-pages": session_list("exit_page"),
    "sources": session_list("source"),
    "referrers": session_list("referrer"),
    "utm/utm_source": session_list("utm_source"),
    "countries": session_list("country"),
    "devices": session_list("device"),
    "browsers": session_list("browser"),
    "os": session_list("os"),
    "events": text(f"""
SELECT name AS event, count(*) AS events, count(DISTINCT visitor_key) AS visitors
FROM event WHERE {IN_RANGE} AND name <> 'pageview'
GROUP BY name ORDER BY events DESC, name COLLATE "C" LIMIT 100"""),
    "properties/plan": text(f"""
SELECT value, count(*) AS events, count(DISTINCT visitor_key) AS visitors
FROM (SELECT properties ->> 'plan' AS value, visitor_key
      FROM event WHERE {IN_RANGE} AND properties ? 'plan') AS p
GROUP BY value ORDER BY events DESC, value COLLATE "C" LIMIT 100"""),
    "revenue": text(f"""
SELECT coalesce(sum(revenue), 0) AS revenue, count(revenue) AS orders,
       count(DISTINCT visitor_key) FILTER (WHERE revenue IS NOT NULL) AS paying_visitors,
       count(DISTINCT visitor_key) AS visitors
FROM event WHERE {IN_RANGE}"""),
}
