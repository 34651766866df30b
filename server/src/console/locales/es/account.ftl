# Respuestas del inicio de sesión, página de inicio, tu cuenta e invitación, en español.

## Sign-in answers
login-second-factor = Tu cuenta usa una aplicación de autenticación. Escribe otra vez tu contraseña y el código de 6 dígitos que muestra ahora la aplicación.
login-bad-code = Ese código no es correcto o ya se usó. Espera al siguiente código y vuelve a intentarlo.
login-disabled = Esta cuenta está desactivada. Pregunta a un propietario de la cuenta de tu prestamista.
login-throttled-wait = Demasiados intentos fallidos. Vuelve a intentarlo dentro de { $minutes } minutos.
login-form-expired = El formulario había caducado, así que no se comprobó nada. Inténtalo de nuevo.

## Start page
home-title = Bienvenida
home-welcome = Hola, { $name }. Elige adónde ir.
home-link-account = Tu cuenta: contraseña, aplicación de autenticación, sesiones
home-link-staff = Personal y claves de API

## Roles
role-owner = Propietario
role-agent = Agente
role-viewer = Observador

## Own account
account-title = Tu cuenta
account-name = Nombre
account-email = Correo electrónico
account-role = Rol
account-back = Volver a tu cuenta
account-password-heading = Cambia tu contraseña
account-current-password = Contraseña actual
account-new-password = Contraseña nueva
account-confirm-password = Contraseña nueva otra vez
account-password-submit = Cambiar la contraseña
account-password-changed = Tu contraseña se cambió. Tus otras sesiones se cerraron.
account-password-wrong = La contraseña actual no es correcta. No se cambió nada.
account-changed-meanwhile = Tu cuenta cambió mientras tanto. Recarga la página y vuelve a intentarlo.
password-policy = De 12 a 128 caracteres, no un solo carácter repetido, y no tu correo electrónico.
password-mismatch = Las dos contraseñas nuevas no son iguales. No se cambió nada.
password-same = La contraseña nueva debe ser distinta de la actual.
account-totp-heading = Aplicación de autenticación (segundo factor)
account-totp-on = Activada: para iniciar sesión se necesita tu contraseña y un código de tu aplicación de autenticación.
account-totp-off = Desactivada: para iniciar sesión basta con tu contraseña.
account-totp-start = Configurar una aplicación de autenticación
account-totp-code = Código que muestra ahora tu aplicación
account-totp-disable = Desactivar la aplicación de autenticación
account-totp-enabled = La aplicación de autenticación está activada. Desde ahora, iniciar sesión también pide su código.
account-totp-disabled = La aplicación de autenticación está desactivada. Para iniciar sesión basta con tu contraseña.
account-totp-setup-title = Configurar una aplicación de autenticación
account-totp-scan = Escanea esta imagen con tu aplicación de autenticación, o escribe en ella la clave de abajo. Luego escribe el código que muestra para activarla.
account-totp-qr-alt = Código QR de tu clave de autenticación
account-totp-key = Clave
account-totp-uri = Enlace para la aplicación
account-totp-retry = Escribe el código que muestra ahora tu aplicación. Si la aplicación no tiene la clave, empieza de nuevo.
account-totp-confirm-code = El código de 6 dígitos que muestra ahora tu aplicación
account-totp-confirm = Activar
account-totp-restart = Empezar de nuevo con una clave nueva
account-sessions-heading = Sesiones
account-logout-everywhere-hint = Cierra la sesión en todos los teléfonos y ordenadores donde la tengas abierta, también en este.
logout-everywhere = Cerrar sesión en todas partes

## Invitation link
invite-title = Elige tu contraseña
invite-intro = { $name }, te invitaron a la consola de { $lender }. Elige una contraseña para { $email }.
invite-password = Contraseña nueva
invite-otp = Código que muestra ahora tu aplicación de autenticación
invite-submit = Guardar la contraseña e iniciar sesión
invite-invalid-title = Este enlace no se puede usar
invite-invalid-body = Ya se usó, caducó o nunca existió. Pide un enlace nuevo a un propietario de la cuenta de tu prestamista.
invite-to-login = Ir a iniciar sesión
