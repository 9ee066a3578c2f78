"""The web interface: blueprints, sign-in, error pages. Thin: parse, call a service, render."""

from __future__ import annotations

from flask import Flask


def init_web(app: Flask) -> None:
    from databank.web import (
        account,
        admin,
        api,
        audit,
        audit_people,
        auth,
        dates,
        errors,
        i18n,
        inputs,
        lifecycle,
        linkage,
        navigation,
        outreach,
        outreach_offline,
        own_records,
        pages,
        paths,
        referrals,
        security,
        statistics,
        stats_report,
        tokens,
    )

    paths.init_app(app)  # before any blueprint binds a rule that names the converter
    security.init_app(app)
    inputs.init_app(app)
    i18n.init_app(app)
    dates.init_app(app)
    app.context_processor(navigation.context)
    errors.init_app(app)
    auth.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(lifecycle.bp)
    app.register_blueprint(referrals.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(audit_people.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin.bp)
    api.init_app(app)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(outreach.bp)
    app.register_blueprint(outreach_offline.bp)
    app.register_blueprint(linkage.bp)
    app.register_blueprint(own_records.bp)
    app.register_blueprint(statistics.bp)
    app.register_blueprint(stats_report.bp)
