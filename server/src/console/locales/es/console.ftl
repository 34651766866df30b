# Consola del prestamista, español. Las palabras compartidas (bloqueado, pago, código
# de desbloqueo) son las de la aplicación del teléfono (android-app/src/main/res/values-es).

console-name = Consola del prestamista
skip-to-content = Saltar al contenido principal

## Cabecera y menú
nav-label = Menú principal
nav-dashboard = Panel
nav-devices = Dispositivos
nav-register-sale = Registrar una venta
nav-unlock-codes = Códigos de desbloqueo
nav-import = Importar
nav-staff-keys = Personal y claves
header-lender = Prestamista: { $name }
header-staff = Has iniciado sesión como { $name }
logout = Cerrar sesión

## Selector de idioma
language-label = Idioma
language-submit = Cambiar idioma
language-name-en = English
language-name-sw = Kiswahili
language-name-es = Español

## Página de inicio de sesión
login-title = Iniciar sesión
login-intro = Inicia sesión con tu cuenta de personal. Si no tienes una, pide una invitación al titular de la cuenta de tu prestamista.
login-email = Correo electrónico
login-password = Contraseña
login-otp = Código de un solo uso (opcional)
login-otp-hint = Solo si tu cuenta usa una aplicación de autenticación: los 6 dígitos que muestra ahora.
login-submit = Entrar
login-failed = El correo, la contraseña o el código de un solo uso no son correctos.
login-throttled = Demasiados intentos. Espera unos minutos e inténtalo de nuevo.

## Páginas de error
not-found-title = Página no encontrada
not-found-body = No hay ninguna página en esta dirección, o pertenece a otro prestamista.
not-found-home = Ir a la página de inicio
bad-request-title = No se pudo leer esta solicitud
bad-request-body = El formulario enviado estaba incompleto o no era válido. Vuelve atrás e inténtalo de nuevo.
forbidden-title = No permitido
forbidden-body = Esta solicitud venía de otro sitio, así que no se ha hecho nada.
not-allowed-title = Tu rol no lo permite
not-allowed-body = Tu rol no permite esta acción. Si la necesitas, pídesela al titular de la cuenta de tu prestamista.
form-expired-title = Este formulario ha caducado
form-expired-body = No se ha cambiado nada. Vuelve atrás, recarga la página y envía el formulario de nuevo.
error-title = Algo salió mal
error-body = El servidor no pudo mostrar esta página. Inténtalo de nuevo más tarde; si sigue pasando, avisa a tu administrador.
