"""Notifiers, one module per integration, all behind ``base.Notifier``.

    webhook        generic JSON, HMAC-SHA256 signed
    alertmanager   Prometheus Alertmanager API v2
    dingtalk       钉钉 custom robot (markdown, 加签)
    wecom          企业微信 group robot (markdown)
    feishu         飞书 custom bot (card, signed)
    email          SMTP

Below them, and importing none of them:

    render         ``Renderer``: titles, markdown bodies, digests, links, in zh or en
    texts          the words of the messages (names from ``core.vocabulary``)
    base           ``Notification``, ``NotificationItem``, ``Notifier``, ``NotifyError``

``build.build_notifier(receiver, renderer=…, client=…)`` picks the class for a configured receiver.
This package file imports nothing, so that ``base``, ``texts`` and ``render`` import without
pulling every integration (and a cycle) in with them.
"""
