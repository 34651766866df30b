# The lender console, English (the fallback language). Every message here exists in
# sw/ and es/ too (a test checks); shared words follow the phone app's strings.

console-name = Lender console
skip-to-content = Skip to main content

## Header and menu
nav-label = Main menu
nav-dashboard = Dashboard
nav-devices = Devices
nav-register-sale = Register a sale
nav-unlock-codes = Unlock codes
nav-import = Import
nav-staff-keys = Staff & keys
header-lender = Lender: { $name }
header-staff = Signed in as { $name }
logout = Sign out

## Language picker (each language's name is written in that language)
language-label = Language
language-submit = Change language
language-name-en = English
language-name-sw = Kiswahili
language-name-es = Español

## Sign-in page
login-title = Sign in
login-intro = Sign in with your staff account. If you have none, ask the owner of your lender's account for an invitation.
login-email = Email address
login-password = Password
login-otp = One-time code (optional)
login-otp-hint = Only if your account uses an authenticator app: the 6 digits it shows now.
login-submit = Sign in
login-failed = The email, password or one-time code is not right.
login-throttled = Too many attempts. Please wait a few minutes and try again.

## Error pages
not-found-title = Page not found
not-found-body = There is no page at this address, or it belongs to another lender.
not-found-home = Go to the start page
bad-request-title = This request could not be read
bad-request-body = The form that was sent was incomplete or not valid. Go back and try again.
forbidden-title = Not allowed
forbidden-body = This request came from another website, so nothing was done.
not-allowed-title = Not allowed for your role
not-allowed-body = Your role does not allow this. Ask an owner of your lender's account if you need it.
form-expired-title = This form has expired
form-expired-body = Nothing was changed. Go back, reload the page and send the form again.
error-title = Something went wrong
error-body = The server could not show this page. Please try again later; if it keeps happening, tell your administrator.
