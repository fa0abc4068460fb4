import { useEffect, useRef, useState } from 'react';
import QRCode from 'qrcode';

/*
 * A link to hand over: its text (selectable, a read-only field), a copy
 * button and a QR code for a phone's camera.  The QR code is drawn on a
 * canvas in the page: the link carries a token, so it goes to no
 * outside service.
 */

export function OrgQrCode({ text, label, size = 176 }) {
    const ref = useRef(null);
    const [failed, setFailed] = useState(false);

    useEffect(() => {
        if (!ref.current || !text) {
            return;
        }
        QRCode.toCanvas(ref.current, text, { width: size, margin: 2,
                                             errorCorrectionLevel: 'L' })
            .then(() => setFailed(false), () => setFailed(true));
    }, [text, size]);

    if (failed) {
        return <p className="error">The QR code could not be drawn.</p>;
    }
    return <canvas ref={ref} className="org-qr" role="img"
                   aria-label={label || 'QR code of the link'}
                   width={size} height={size} />;
}

export default function OrgLink({ url, label, children }) {
    const input = useRef(null);
    const [copied, setCopied] = useState(null);

    async function copy() {
        try {
            await navigator.clipboard.writeText(url);
            setCopied('Copied.');
        } catch {
            /* no clipboard here (an http page, a refusal): the text is
             * selected for the user's own copy */
            input.current.select();
            setCopied('Selected: press Ctrl+C or ⌘C to copy.');
        }
    }

    return (
        <div className="org-link">
            <div className="org-link-text">
                <label>
                    {label}
                    <input ref={input} readOnly value={url}
                           onFocus={e => e.target.select()} />
                </label>
                <div className="org-link-actions">
                    <button type="button" className="secondary"
                            onClick={copy}>Copy</button>
                    <span role="status" className="org-copied">
                        {copied}
                    </span>
                    {children}
                </div>
            </div>
            <OrgQrCode text={url} label={'QR code: ' + label} />
        </div>
    );
}
