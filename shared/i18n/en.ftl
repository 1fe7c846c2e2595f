# Portcullis hosted pages, English.
lang-name = English
skip-to-content = Skip to the main content
language = Language
error-summary-title = There is a problem
field-error-prefix = Error:

# Login
login-title = Log in
login-identifier = Username or email
login-next = Next
login-password = Password
login-submit = Log in
login-not-you = Use another account
login-forgot = Forgot password?
login-signup-prompt = No account yet?
login-signup-link = Create an account
login-or = or
login-google = Continue with Google
login-github = Continue with GitHub
login-with-access-key = Log in with access key
access-key-title = Log in with an access key
access-key-id = Access key
access-key-secret = Secret key
access-key-submit = Log in
login-back = Back to log in
resend-verification = Send the mail again
resend-verification-sent = If the address needs verifying, a new mail is on its way.

# Signup
signup-title = Create an account
signup-first-name = First name
signup-last-name = Last name
signup-email = Email
signup-username = Username
signup-username-hint = Suggested from your email. You can change it: 3 to 40 letters, digits, dots, dashes or underscores.
signup-password = Password
signup-password-rules = Your password needs:
rule-length = { $min } to { $max } characters
rule-letter = a letter
rule-digit = a digit
rule-special = a special character, such as ! or #
signup-terms = I accept the { $terms } and the { $privacy }
signup-terms-plain = I accept the terms of service and the privacy policy
signup-terms-link = terms of service
signup-privacy-link = privacy policy
signup-invitation = Invitation code
signup-submit = Create account
signup-have-account = Already have an account?
signup-closed-title = Signup is closed
signup-closed = New accounts can't be created on this server. Ask an administrator.
signup-invitation-needed = Signup on this server needs an invitation. Open the link in your invitation mail.
signup-check-mail-title = Check your mail
signup-check-mail = We sent a link to { $email }. Open it to confirm your address, then log in.
signup-waiting-title = Waiting for approval
signup-waiting = Your account was created. An administrator has to approve it before you can log in.

# Email verification
verify-title = Confirm your email
verify-intro = Confirm that this address is yours to finish setting up your account.
verify-submit = Confirm my email
verify-done-title = Email confirmed
verify-done = Your address is confirmed. You can log in now.
verify-done-approval = Your address is confirmed. An administrator has to approve your account before you can log in.
verify-missing = This link has no token. Open the link from your mail again.

# Forgot and reset
forgot-title = Forgot your password?
forgot-intro = Enter the email of your account. If it has one, we will send a link to choose a new password.
forgot-email = Email
forgot-submit = Send
forgot-sent-title = Check your mail
forgot-sent = If an account uses that address, a mail with a link is on its way. The link works for a limited time.
reset-title = Choose a new password
reset-new = New password
reset-again = New password again
reset-submit = Change password
reset-done-title = Password changed
reset-done = Your password is changed and you were signed out everywhere. Log in with the new password.
passwords-differ = The two passwords are not the same.

# OAuth
oauth-complete-title = Finishing sign-in
oauth-complete-wait = Finishing your sign-in…
oauth-complete-needs-js = Finishing a sign-in with Google or GitHub needs JavaScript. Turn it on, or log in with your password.
oauth-complete-continue = Continue

# Account
account-title = Your account
account-profile = Profile
account-name = Name
account-username = Username
account-email = Email
account-verified = Verified
account-not-verified = Not verified
account-change-password = Change password
account-current-password = Current password
account-new-password = New password
account-new-password-again = New password again
account-change-password-submit = Change password
account-password-changed = Your password is changed. Your other sessions were signed out.
account-sessions = Sessions
account-session-this = This device
account-session-started = Started
account-session-last-used = Last used
account-session-from = From
account-session-end = Sign out
account-sessions-end-all = Sign out everywhere
account-session-ended = The session was signed out.
account-keys = Access keys
account-keys-none = You have no access keys.
account-key-create = Create an access key
account-key-created = Your new access key. Copy the secret key now: it is shown only once.
account-key-copy = Copy
account-key-copied = Copied
account-key-delete = Delete
account-key-deleted = The access key was deleted.
account-key-last-used = Last used
account-key-never-used = Never used
logout = Log out

# Errors by code
error-invalid_request = Some fields need your attention.
error-weak_password = The password is not strong enough.
error-email_taken = An account with this email already exists. Log in, or reset your password.
error-username_taken = This username is taken. Choose another.
error-signup_disabled = Signup is closed on this server.
error-invitation_required = Signup on this server needs an invitation.
error-invitation_invalid = This invitation can't be used: it is unknown, used, expired, or for another email.
error-rate_limited = Too many tries from your network. Wait a few minutes and try again.
error-invalid_credentials = The username, email or password is not right.
error-email_not_verified = Confirm your email before you log in: open the link we sent you.
error-recent_login_required = For your safety, sign in again first, then try again within 5 minutes.
error-pending_approval = Your account is waiting for an administrator's approval.
error-account_disabled = This account is disabled. Contact an administrator.
error-account_locked = Too many failed attempts. Try again in { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
  }.
error-unauthorized = Your session has ended. Log in again.
error-invalid_token = This link is unknown, used or expired. Ask for a new one.
error-invalid_refresh_token = Your session has ended. Log in again.
error-password_reset_disabled = Password reset is turned off on this server. Contact an administrator.
error-access_key_login_disabled = Logging in with an access key is turned off on this server.
error-forbidden = You are not allowed to do this.
error-last_admin = The last active administrator can't be changed or removed.
error-access_key_limit = You have as many access keys as allowed. Delete one first.
error-not_found = There is nothing here.
error-unknown_provider = This sign-in provider is not set up on this server.
error-method_not_allowed = That can't be done here.
error-payload_too_large = What you sent is too large.
error-unsupported_media_type = The form was sent in a way the server doesn't accept.
error-unavailable = The service is busy. Try again in a moment.
error-internal = Something went wrong on our side. Try again; if it happens again, quote reference { $request_id }.
error-csrf = This form has expired. Reload the page and try again.

# Field messages
field-required = This field is required.
field-accepted = You have to accept this to continue.
field-email = Enter an email address such as name@example.com.
field-too-common = This password is too common.
field-letter = The password needs a letter.
field-digit = The password needs a digit.
field-special = The password needs a special character.
field-no-username = The password must not contain your username.
field-no-email = The password must not contain your email address.
field-min-length = Use at least { $n } characters.
field-max-length = Use at most { $n } characters.
field-not-empty = This field can't be empty.

# Not found page
not-found-title = Page not found

## Signing in to apps (the OpenID provider)
oidc-error-title = This sign-in link doesn't work
oidc-unknown-client = The app that sent you here is not registered with this service.
oidc-bad-redirect-uri = The app that sent you here asked to send you back to an address it has not registered, so you were not sent on.
oidc-bad-logout-hint = The app that sent you here gave a sign-out request this service can't check.
oidc-bad-logout-redirect = The app that sent you here asked to send you back to an address it has not registered, so you were not signed out.
oidc-error-advice = Go back to the app and try again. If it keeps happening, tell the people who run the app.
oidc-logout-title = Sign out?
oidc-logout-confirm = An app asked to sign you out of this service. Sign out now?
oidc-logout-submit = Sign out
oidc-logout-cancel = Stay signed in
oidc-signed-out-title = You are signed out
oidc-signed-out = You have been signed out of this service.
oidc-continue-title = You are signed in
oidc-continue = Taking you back to the app that sent you here.
oidc-continue-link = Continue to the app
account-session-app = Signed in to { $name }
account-key-password = Your password
account-key-password-hint = A new access key can sign in without the password, so we ask for it first.
account-key-expires = Expires { $when }
oidc-bad-request = The request from the app that sent you here is malformed or too long.
