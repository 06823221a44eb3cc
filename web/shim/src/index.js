// @intrustd/shim: reach apps on a self-hosted Intrustd appliance from a web page, over a
// WebRTC link whose answer is verified against the appliance ID.
export { install, IntrustdHandle } from './install.js';
export { connect, Link, classifyPath } from './link.js';
export { parseApplianceId, applianceIdFromPublicKey, isApplianceId } from './id.js';
export { signingInput, verifyAnswer } from './signing.js';
export {
  IntrustdError, IntrustdVerificationError, IntrustdLinkError, InvalidApplianceIdError,
  FrameError, StreamError, HttpParseError, WsProtocolError, IntrustdAccessError,
} from './errors.js';
export { takeTokenFromFragment } from './access.js';
