"""The shop's numbers at a glance: messages, automation, response times, customers, orders, holds, CRM
health, per period, with charts.

Its own app, which nothing else imports: it reads every app's tables (through their models and
selectors) into daily per-shop aggregates (`DailyStats`, kept by a beat task and rebuilt by
`manage.py rebuild_stats`), so that the page reads a few hundred rows whatever the shop's size. Today
is computed live.
"""
