// allauth's WebAuthn scripts report a refused or failed ceremony (no passkey on this
// device, cancelled, timed out) only on the console: show the page's message too.
document.addEventListener('allauth.error', function (event) {
  const tags = (event.detail && event.detail.tags) || []
  const box = document.getElementById('webauthn-error')
  if (box && tags.indexOf('webauthn') !== -1) {
    box.hidden = false
    box.scrollIntoView({ block: 'nearest' })
  }
})
