# El mostrador de códigos de desbloqueo (console/codes.html). Español.

codes-title = Códigos de desbloqueo
codes-intro = Para un cliente con el teléfono bloqueado y sin internet: le lee el código de solicitud de su pantalla de bloqueo y usted le da un código de desbloqueo.
codes-device = Id del dispositivo o referencia del cliente
codes-device-hint = El id del dispositivo, o su referencia del cliente si solo un dispositivo la tiene.
codes-challenge-hint = Los 8 dígitos de la pantalla de bloqueo del cliente ("Tu código de solicitud").
codes-submit = Obtener el código de desbloqueo
codes-answer-heading = Código de desbloqueo para { $name }
codes-answer-days = Léaselo al cliente. Desbloquea el teléfono durante { $text }.
codes-day-one = 1 día
codes-days-other = { $days } días
codes-error-several = Varios dispositivos tienen esta referencia del cliente. Elija uno y use su id:
codes-error-no-device = Ninguno de sus dispositivos tiene este id o referencia del cliente.
codes-error-challenge = Estos dígitos no son un código de solicitud actual de este teléfono. Pida al cliente que los lea de nuevo.
