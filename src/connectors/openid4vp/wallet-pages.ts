/**
 * The wallet sign-in page: a QR code of the authorization request for a wallet on another
 * device, a button for a wallet on this device, and a small script (nonce-allowed by the CSP)
 * that polls the transaction and moves on once the wallet has answered.
 */
import { html, raw } from '../../ui/html.js';
import { newNonce, type PageOptions } from '../../ui/layout.js';

export interface WalletPageInput {
  interactionId: string;
  connectorId: string;
  connectorName: string;
  /** data: URL of the QR code image, when the page offers the cross-device flow. */
  qrDataUrl?: string;
  /** The authorization request for a wallet on this device. */
  sameDeviceLink?: string;
  /** The poll endpoint of this page's transaction. */
  pollUrl: string;
}

/** The polling script: reads its endpoint from a data attribute, so nothing is interpolated into code. */
const POLL_SCRIPT = `(function(){
var status=document.getElementById('wallet-status');var restart=document.getElementById('wallet-restart');var request=document.getElementById('wallet-request');
var url=status.getAttribute('data-poll');
function show(text){status.textContent=text;}
function poll(){
fetch(url,{credentials:'same-origin',cache:'no-store',headers:{accept:'application/json'}})
.then(function(r){return r.json().then(function(j){return {ok:r.ok,body:j};});})
.then(function(x){
if(x.body&&typeof x.body.next==='string'&&x.body.next.charAt(0)==='/'){show('Your wallet answered. Continuing…');location.assign(x.body.next);return;}
if(!x.ok||x.body.status==='expired'){show('This request has expired.');request.hidden=true;restart.hidden=false;return;}
setTimeout(poll,1500);})
.catch(function(){setTimeout(poll,3000);});}
setTimeout(poll,1000);})();`;

export function walletPage(input: WalletPageInput): PageOptions {
  const nonce = newNonce();
  const restartUrl = `/interaction/${encodeURIComponent(input.interactionId)}/login/${encodeURIComponent(input.connectorId)}`;
  const body = html`<h1>Sign in with your wallet</h1>
<p>${input.connectorName}</p>
<div id="wallet-request">
${
  input.qrDataUrl
    ? html`<p id="wallet-instructions">Scan this code with the wallet app on your phone and share the requested credential.</p>
<img class="qr" id="wallet-qr" src="${input.qrDataUrl}" alt="QR code of the wallet request" aria-describedby="wallet-instructions">`
    : ''
}
${
  input.sameDeviceLink
    ? html`<div class="actions"><a class="button primary" id="wallet-same-device" href="${input.sameDeviceLink}">Open the wallet on this device</a></div>`
    : ''
}
</div>
<p id="wallet-status" role="status" aria-live="polite" data-poll="${input.pollUrl}">Waiting for your wallet…</p>
<noscript><p>This page checks for your wallet's answer with JavaScript. Enable it, or use the wallet on this device.</p></noscript>
<div id="wallet-restart" hidden><div class="actions"><a class="button" href="${restartUrl}">Start again</a></div></div>
<form method="post" action="/interaction/${input.interactionId}/abort"><div class="actions"><button class="button" type="submit">Cancel</button></div></form>
<script nonce="${nonce}">${raw(POLL_SCRIPT)}</script>`;
  return { title: 'Sign in with your wallet', body, nonce };
}
