package io.deskgate.agent;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * Test-only: performs the RFB 3.8 handshake up to the SecurityResult with VNC authentication
 * (RFC 6143 §7.1.1, §7.1.2, §7.2.2, §7.1.3) and reports whether the password was accepted.
 */
final class VncAuthProbe {
    static final int SECURITY_TYPE_VNC_AUTH = 2;
    static final int CHALLENGE_BYTES = 16;

    private VncAuthProbe() {}

    static boolean authenticates(int port, String password) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            byte[] version = in.readNBytes(12);
            if (!new String(version, StandardCharsets.US_ASCII).startsWith("RFB 003.")) {
                throw new IOException("not an RFB server");
            }
            out.write("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII));
            int count = in.readUnsignedByte();
            if (count == 0) throw new IOException("server refused: " + reason(in));
            byte[] types = in.readNBytes(count);
            boolean offered = false;
            for (byte t : types) offered |= t == SECURITY_TYPE_VNC_AUTH;
            if (!offered) throw new IOException("VNC authentication not offered");
            out.write(SECURITY_TYPE_VNC_AUTH);
            byte[] challenge = in.readNBytes(CHALLENGE_BYTES);
            Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
            des.init(Cipher.ENCRYPT_MODE,
                    new SecretKeySpec(VncPasswordFile.reverseBits(VncPasswordFile.padded(password)), "DES"));
            out.write(des.doFinal(challenge));
            int result = in.readInt();
            return result == 0;
        }
    }

    private static String reason(DataInputStream in) throws IOException {
        int n = in.readInt();
        return new String(in.readNBytes(Math.min(n, 1024)), StandardCharsets.UTF_8);
    }
}
