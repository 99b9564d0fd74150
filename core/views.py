"""Web pages for signing in and out, signing up, password reset and accepting invitations; the site's nav.

The main navigation is a registry, so each domain adds its own links without editing ``base.html``:
call ``register_nav(label, endpoint, visible=..., order=...)`` from the domain's ``init_app``. ``base.html``
shows, in ``order``, every link whose endpoint exists in the app and whose ``visible(user)`` is true
(``user`` is the signed-in ``User`` or ``None``); the link of the page being shown gets
``aria-current="page"`` (also for pages under its path). Registering the same endpoint again replaces the
earlier link, so building several apps in one process (the tests do) is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import ValidationError as SchemaValidationError
from marshmallow import validate
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import EmailField, Field, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from core import accounts, i18n, organisations
from core import dashboard as dashboard_sections
from core.auth import current_user, end_session, start_session
from core.authz import can
from core.errors import ServiceError, Unauthorized
from core.extensions import limiter
from core.models import User
from core.schemas import has_control_characters

bp = Blueprint("web", __name__)
Page = str | WerkzeugResponse


@dataclass(frozen=True)
class NavLink:
    label: str
    endpoint: str
    visible: Callable[[User | None], bool]
    order: int


@dataclass(frozen=True)
class ShownLink:
    label: str
    url: str
    current: bool


_nav: dict[str, NavLink] = {}


def register_nav(
    label: str, endpoint: str, *, visible: Callable[[User | None], bool] = lambda user: True, order: int = 100
) -> None:
    """Add a main-navigation link to ``endpoint`` (no URL arguments) for the users ``visible`` accepts."""
    _nav[endpoint] = NavLink(label=label, endpoint=endpoint, visible=visible, order=order)


def nav_links(user: User | None) -> list[ShownLink]:
    """The links ``user`` sees, in order, the current page's marked (used by ``base.html``)."""
    shown = []
    for link in sorted(_nav.values(), key=lambda n: (n.order, str(n.label))):
        if link.endpoint not in current_app.view_functions or not link.visible(user):
            continue
        try:
            url = url_for(link.endpoint)
        except BuildError:  # an endpoint that needs arguments cannot be a nav link
            continue
        current = request.path == url or (url != "/" and request.path.startswith(url.rstrip("/") + "/"))
        shown.append(ShownLink(label=link.label, url=url, current=current))
    return shown


def signed_in_user() -> User:
    """The user of a page that needs one (blueprints guarded by ``require_sign_in`` never get here anonymous)."""
    user = current_user()
    if user is None:
        raise Unauthorized("Sign in to see this page.")
    return user


def sign_in_redirect() -> WerkzeugResponse | None:
    """For anonymous visitors: the sign-in page, which brings them back here afterwards."""
    if current_user() is None:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return None


def require_sign_in(blueprint: Blueprint) -> None:
    """Send anonymous visitors of any page of ``blueprint`` (but its static files) to sign in first."""

    @blueprint.before_request
    def _signed_in_only() -> WerkzeugResponse | None:
        if (request.endpoint or "").endswith(".static"):
            return None
        return sign_in_redirect()


def text_arg(name: str, max_length: int = 200) -> str:
    """A query-string filter for pages: trimmed and cut; empty when it holds control characters, which no
    stored text has (and PostgreSQL refuses NUL), so a hostile link shows an empty filter, not an error."""
    value = (request.args.get(name) or "").strip()[:max_length]
    return "" if has_control_characters(value) else value


def no_control_characters(form: FlaskForm, field: Field) -> None:
    """The same rule the API's text fields follow (and PostgreSQL refuses NUL in text)."""
    if field.data and has_control_characters(field.data):
        raise ValidationError(_("Must not contain control characters."))


def email_address(form: FlaskForm, field: Field) -> None:
    """The API's email rule (WTForms' own ``Email`` needs a package we do not install)."""
    try:
        validate.Email()(field.data or "")
    except SchemaValidationError:
        raise ValidationError(_("Not a valid email address.")) from None


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254), no_control_characters])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class SignupForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200), no_control_characters])
    email = EmailField(
        _l("Email address"), validators=[DataRequired(), Length(max=254), no_control_characters, email_address]
    )
    password = PasswordField(_l("Password (at least 10 characters)"), validators=[DataRequired(), Length(max=1024)])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254), no_control_characters])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password (at least 10 characters)"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class AcceptInvitationForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[Length(max=200), no_control_characters])
    password = PasswordField(_l("Choose a password (at least 10 characters)"), validators=[Length(max=1024)])


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


def _form_status(form: FlaskForm) -> int:
    """422 when the form is shown again because of errors, so scripts and tests can tell."""
    return 422 if form.errors or form.form_errors else 200


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    # Only same-site paths, so a crafted link cannot bounce a fresh login to another site. Browsers drop
    # tabs and newlines inside URLs ("/\t/evil.example" is "//evil.example") and read "\\" as "/".
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not has_control_characters(target)
    ):
        return target
    return url_for("web.dashboard")


@bp.get("/")
def home() -> Page:
    user = current_user()
    # Someone signed in who belongs nowhere yet is offered to start a programme, when the service allows it.
    may_start = bool(user and not user.memberships and can(user, "organisation.create"))
    return render_template("home.html", user=user, may_start=may_start)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Page:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(email=form.email.data or "", password=form.password.data or "")
        except ServiceError as exc:
            _attach_errors(form, exc)
        else:
            start_session(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form), _form_status(form)  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Page:
    end_session()
    flash(_("You are signed out."))
    return redirect(url_for("web.home"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def signup() -> Page:
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = accounts.register(
                email=form.email.data or "", name=form.name.data or "", password=form.password.data or ""
            )
        except ServiceError as exc:
            _attach_errors(form, exc)
        else:
            start_session(user)
            return redirect(url_for("web.dashboard"))
    return render_template("signup.html", form=form), _form_status(form)  # type: ignore[return-value]


@bp.get("/home")
def dashboard() -> Page:
    """Home: what is waiting for the signed-in user (where signing in lands)."""
    if (to_sign_in := sign_in_redirect()) is not None:
        return to_sign_in
    sections = dashboard_sections.sections_for(signed_in_user())
    return render_template(
        "dashboard.html",
        sections=[s for s in sections if s.items],
        next_steps=[s.next_step for s in sections if s.next_step is not None],
    )


@bp.post("/language")
def language() -> Page:
    """The footer's switcher and the account page's select: a cookie, and the account's preference when signed in.

    An empty choice (the account page's "the browser's language") forgets both.
    """
    code = i18n.supported(request.form.get("language"))
    user = current_user()
    if user is not None:
        accounts.set_language(user=user, locale=code)
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = url_for("web.home")
    response = redirect(target, code=303)
    if code:
        response.set_cookie(i18n.COOKIE, code, max_age=i18n.COOKIE_AGE, samesite="Lax", httponly=True)
    else:
        response.delete_cookie(i18n.COOKIE)
    return response


@bp.get("/account")
def account() -> Page:
    if redirect_to := sign_in_redirect():
        return redirect_to
    user = signed_in_user()
    return render_template("account.html", user=user, may_create_organisation=can(user, "organisation.create"))


@bp.route("/password-reset", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def password_reset_request() -> Page:
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(email=form.email.data or "")
        return render_template("password_reset_sent.html")
    return render_template("password_reset_request.html", form=form), _form_status(form)  # type: ignore[return-value]


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def password_reset(token: str) -> Page:
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token=token, password=form.password.data or "")
        except ServiceError as exc:
            _attach_errors(form, exc)
        else:
            flash(_("Your password is changed. Sign in with it now."))
            return redirect(url_for("web.login"))
    return render_template("password_reset.html", form=form), _form_status(form)  # type: ignore[return-value]


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def accept_invitation(token: str) -> Page:
    form = AcceptInvitationForm()
    user = current_user()
    if form.validate_on_submit():
        try:
            invitation = organisations.pending_invitation(token)
            user = organisations.accept_invitation(
                token=token, actor=user, name=form.name.data or None, password=form.password.data or None
            )
        except ServiceError as exc:
            _attach_errors(form, exc)
        else:
            start_session(user)
            roles = " and ".join(sorted(r.replace("_", " ") for r in invitation.roles))
            flash(_("Welcome! You have joined %(name)s as %(roles)s.", name=invitation.organisation.name, roles=roles))
            return redirect(url_for("web.dashboard"))
    return render_template("accept_invitation.html", form=form, user=user), _form_status(form)  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_nav(_l("Home"), "web.dashboard", visible=lambda user: user is not None, order=5)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "current_user": current_user,
            "allow_signup": app.config["ALLOW_SIGNUP"],
            "nav_links": nav_links,
            "view_endpoints": lambda: app.view_functions,
            # For deciding what to show only; the services authorise every action themselves.
            "may": lambda action, target=None: can(current_user(), action, target),
        }
