# The console's sign-in answers, start page, own account and invitation pages, English.
# Every message here exists in sw/ and es/ too (a test checks).

## Sign-in answers
login-second-factor = Your account uses an authenticator app. Type your password again and the 6-digit code the app shows now.
login-bad-code = That code is not right or was already used. Wait for the next code and try again.
login-disabled = This account is disabled. Ask an owner of your lender's account.
login-throttled-wait = Too many failed attempts. Try again in { $minutes } minutes.
login-form-expired = The form had expired, so nothing was checked. Please try again.

## Start page
home-title = Welcome
home-welcome = Hello, { $name }. Choose where to go.
home-link-account = Your account: password, authenticator app, sessions
home-link-staff = Staff and API keys

## Roles
role-owner = Owner
role-agent = Agent
role-viewer = Viewer

## Own account
account-title = Your account
account-name = Name
account-email = Email address
account-role = Role
account-back = Back to your account
account-password-heading = Change your password
account-current-password = Current password
account-new-password = New password
account-confirm-password = New password again
account-password-submit = Change password
account-password-changed = Your password was changed. Your other sessions were ended.
account-password-wrong = The current password is not right. Nothing was changed.
account-changed-meanwhile = Your account was changed meanwhile. Reload the page and try again.
password-policy = 12 to 128 characters, not one character repeated, and not your email address.
password-mismatch = The two new passwords are not the same. Nothing was changed.
password-same = The new password must be different from the current one.
account-totp-heading = Authenticator app (second factor)
account-totp-on = On: signing in needs your password and a code from your authenticator app.
account-totp-off = Off: signing in needs only your password.
account-totp-start = Set up an authenticator app
account-totp-code = Code your app shows now
account-totp-disable = Turn the authenticator app off
account-totp-enabled = The authenticator app is on. From now on, signing in also needs its code.
account-totp-disabled = The authenticator app is off. Signing in needs only your password.
account-totp-setup-title = Set up an authenticator app
account-totp-scan = Scan this picture with your authenticator app, or type the key below into it. Then type the code it shows to turn it on.
account-totp-qr-alt = QR code of your authenticator key
account-totp-key = Key
account-totp-uri = Link for the app
account-totp-retry = Type the code your app shows now. If the app does not have the key, start again.
account-totp-confirm-code = The 6-digit code your app shows now
account-totp-confirm = Turn on
account-totp-restart = Start again with a new key
account-sessions-heading = Sessions
account-logout-everywhere-hint = Sign out on every phone and computer where you are signed in, this one included.
logout-everywhere = Sign out everywhere

## Invitation link
invite-title = Choose your password
invite-intro = { $name }, you were invited to the console of { $lender }. Choose a password for { $email }.
invite-password = New password
invite-otp = Code your authenticator app shows now
invite-submit = Save password and sign in
invite-invalid-title = This link cannot be used
invite-invalid-body = It was used already, it expired, or it never existed. Ask an owner of your lender's account for a new link.
invite-to-login = Go to sign in
