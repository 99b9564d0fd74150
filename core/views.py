"""Web pages for signing in and out, signing up, password reset and accepting invitations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from core import services
from core.auth import current_user, end_session, start_session
from core.errors import ServiceError
from core.extensions import limiter

bp = Blueprint("web", __name__)
Page = str | WerkzeugResponse


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class SignupForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email address", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        "Password (at least 10 characters)", validators=[DataRequired(), Length(max=1024)]
    )


class ResetRequestForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password (at least 10 characters)", validators=[DataRequired(), Length(max=1024)]
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )


class AcceptInvitationForm(FlaskForm):
    name = StringField("Your name", validators=[Length(max=200)])
    password = PasswordField("Choose a password (at least 10 characters)", validators=[Length(max=1024)])


def _attach_errors(form: FlaskForm, exc: ServiceError) -> None:
    """Show a service's field errors next to the matching form fields (or at the top of the form)."""
    placed = False
    for error in exc.errors:
        field = getattr(form, error.get("field", ""), None)
        if field is not None:
            field.errors = [*field.errors, error["detail"]]
            placed = True
    if not placed:
        form.form_errors.append(exc.detail)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    # Only same-site paths, so a crafted link cannot bounce a fresh login to another site.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("web.account")


@bp.get("/")
def home() -> Page:
    return render_template("home.html", user=current_user())


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Page:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(email=form.email.data or "", password=form.password.data or "")
        except ServiceError as exc:
            _attach_errors(form, exc)
        else:
            start_session(user)
            return redirect(_safe_next(request.args.get("next")))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("login.html", form=form), status  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Page:
    end_session()
    flash("You are signed out.")
    return redirect(url_for("web.home"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def signup() -> Page:
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = services.register(
                email=form.email.data or "", name=form.name.data or "", password=form.password.data or ""
            )
        except ServiceError as exc:
            _attach_errors(form, exc)
        else:
            start_session(user)
            return redirect(url_for("web.account"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("signup.html", form=form), status  # type: ignore[return-value]


@bp.get("/account")
def account() -> Page:
    user = current_user()
    if user is None:
        return redirect(url_for("web.login", next=request.path))
    return render_template("account.html", user=user)


@bp.route("/password-reset", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def password_reset_request() -> Page:
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(email=form.email.data or "")
        return render_template("password_reset_sent.html")
    return render_template("password_reset_request.html", form=form)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def password_reset(token: str) -> Page:
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token=token, password=form.password.data or "")
        except ServiceError as exc:
            _attach_errors(form, exc)
        else:
            flash("Your password is changed. Sign in with it now.")
            return redirect(url_for("web.login"))
    return render_template("password_reset.html", form=form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def accept_invitation(token: str) -> Page:
    form = AcceptInvitationForm()
    user = current_user()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(
                token=token, actor=user, name=form.name.data or None, password=form.password.data or None
            )
        except ServiceError as exc:
            _attach_errors(form, exc)
        else:
            start_session(user)
            flash("Welcome! You have joined the organisation.")
            return redirect(url_for("web.account"))
    return render_template("accept_invitation.html", form=form, user=user)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"current_user": current_user, "allow_signup": app.config["ALLOW_SIGNUP"]}
