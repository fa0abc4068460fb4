package Race::WS;

# A small raw-socket WebSocket client for the tests: it sends exactly the
# bytes a test asks for, well-formed or not, and every read and write is
# bounded by a timeout, so a server that misbehaves fails a test instead
# of hanging it.
#
#   my $ws = Race::WS->new(port => $port);
#   my $res = $ws->handshake(path => '/echo');      # {status, headers, body}
#
#   my $ws = Race::WS->start(port => $port, path => '/echo');  # 101 or die
#   $ws->send_frame(Race::WS::TEXT, 'hi');
#   my $f = $ws->read_frame(2);                     # {fin, opcode, payload}
#   $ws->send_close(1000, 'bye');
#   $ws->expect_close(1000, 'bye');                 # close, then EOF

use strict;
use warnings;

use Digest::SHA qw(sha1);
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Select;
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use Socket qw(IPPROTO_TCP TCP_NODELAY SOL_SOCKET SO_RCVBUF SO_SNDBUF);
use Test::More;
use Time::HiRes qw(sleep time);

use constant {
    CONT   => 0x0,
    TEXT   => 0x1,
    BINARY => 0x2,
    CLOSE  => 0x8,
    PING   => 0x9,
    PONG   => 0xa,
};

my $GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

our $TIMEOUT = 5;


# port => N (required), host => '127.0.0.1', timeout => seconds for the
# connect, rcvbuf/sndbuf => socket buffer sizes set before connecting
sub new {
    my ($class, %a) = @_;

    my $sock = IO::Socket::INET->new(Proto => 'tcp')
        or die "socket: $!\n";

    setsockopt($sock, SOL_SOCKET, SO_RCVBUF, $a{rcvbuf}) if $a{rcvbuf};
    setsockopt($sock, SOL_SOCKET, SO_SNDBUF, $a{sndbuf}) if $a{sndbuf};

    my $addr = Socket::pack_sockaddr_in($a{port},
        Socket::inet_aton($a{host} || '127.0.0.1'));

    $sock->blocking(0);

    unless (connect($sock, $addr)) {
        die "connect: $!\n" unless $!{EINPROGRESS};
        IO::Select->new($sock)->can_write($a{timeout} || $TIMEOUT)
            or die "connect: timed out\n";
        my $err = $sock->sockopt(Socket::SO_ERROR);
        die "connect: " . ($! = $err) . "\n" if $err;
    }

    # a write is a segment: the server sees the splits a test makes
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);

    return bless {
        sock => $sock,
        sel  => IO::Select->new($sock),
        buf  => '',
        eof  => 0,
    }, $class;
}

sub sock { $_[0]{sock} }

sub disconnect {
    my ($self) = @_;
    CORE::close($self->{sock}) if $self->{sock};
    $self->{sock} = undef;
}

# a valid Sec-WebSocket-Key: base64 of 16 random bytes
sub random_key {
    return encode_base64(join('', map { chr int rand 256 } 1 .. 16), '');
}

# what the server must answer in Sec-WebSocket-Accept (RFC 6455 4.2.2)
sub accept_key {
    my ($key) = @_;
    return encode_base64(sha1($key . $GUID), '');
}


# The handshake request.  Every part can be replaced, and a part given as
# undef is left out:
#   method, path, proto ('HTTP/1.1'), host, upgrade ('websocket'),
#   connection ('Upgrade'), version (13), key (random), origin (none),
#   headers => [name => value, ...] added at the end, body
sub request {
    my ($self, %a) = @_;

    my %d = (
        method => 'GET', path => '/echo', proto => 'HTTP/1.1',
        host => 'localhost', upgrade => 'websocket',
        connection => 'Upgrade', version => 13, key => random_key(),
    );

    for my $k (keys %d) {
        $a{$k} = $d{$k} unless exists $a{$k};
    }

    $self->{key} = $a{key};

    my $req = "$a{method} $a{path} $a{proto}\r\n";
    $req .= "Host: $a{host}\r\n" if defined $a{host};
    $req .= "Upgrade: $a{upgrade}\r\n" if defined $a{upgrade};
    $req .= "Connection: $a{connection}\r\n" if defined $a{connection};
    $req .= "Sec-WebSocket-Version: $a{version}\r\n" if defined $a{version};
    $req .= "Sec-WebSocket-Key: $a{key}\r\n" if defined $a{key};
    $req .= "Origin: $a{origin}\r\n" if defined $a{origin};

    my @h = @{$a{headers} || []};
    while (my ($name, $value) = splice @h, 0, 2) {
        $req .= "$name: $value\r\n";
    }

    if (defined $a{body}) {
        $req .= "Content-Length: " . length($a{body}) . "\r\n";
    }

    $req .= "\r\n";
    $req .= $a{body} if defined $a{body};

    return $req;
}

# Sends the request (and the bytes in after => ..., in the same write)
# and reads the response: {status, headers => {lower-case name => [values]},
# body}, or undef if none came in time.
sub handshake {
    my ($self, %a) = @_;

    my $after = delete $a{after};
    my $timeout = delete $a{timeout};

    $self->send_raw($self->request(%a) . (defined $after ? $after : ''))
        or return undef;

    return $self->read_response($timeout);
}

# a connection with a successful handshake, or die: for tests of frames
sub start {
    my ($class, %a) = @_;

    my $ws = $class->new(port => delete $a{port},
        map { $_ => delete $a{$_} } grep { exists $a{$_} }
            qw(host rcvbuf sndbuf));
    my $res = $ws->handshake(%a);

    die "handshake: " . ($res ? "status $res->{status}" : 'no response')
        . "\n" unless $res && $res->{status} == 101;

    return $ws;
}

sub header {
    my ($res, $name) = @_;
    my $v = $res->{headers}{lc $name} or return undef;
    return join ', ', @$v;
}

sub read_response {
    my ($self, $timeout) = @_;

    my $end = time + ($timeout || $TIMEOUT);
    my $i;

    while (($i = index($self->{buf}, "\r\n\r\n")) < 0) {
        $self->fill($end) or return undef;
    }

    my $head = substr($self->{buf}, 0, $i + 4, '');
    my ($line, @lines) = split /\r\n/, $head;

    my ($status) = $line =~ m{^HTTP/1\.[01] (\d{3})}
        or return { status => 0, line => $line, headers => {}, body => '' };

    my %h;
    for (@lines) {
        my ($name, $value) = /^([^:]+):\s*(.*?)\s*$/ or next;
        push @{$h{lc $name}}, $value;
    }

    my $res = { status => $status, line => $line, headers => \%h,
        body => '' };

    return $res if $status == 101;

    my $len = $h{'content-length'} ? $h{'content-length'}[0] : undef;

    if (defined $len) {
        while (length $self->{buf} < $len) {
            $self->fill($end) or last;
        }
        $res->{body} = substr($self->{buf}, 0, $len, '');

    } else {
        # no length: the body runs to the end of the connection
        1 while $self->fill($end);
        $res->{body} = $self->{buf};
        $self->{buf} = '';
    }

    return $res;
}

# one read into the buffer before the deadline; 0 on timeout or EOF
sub fill {
    my ($self, $end) = @_;

    return 0 if $self->{eof};

    for (;;) {
        my $left = $end - time;
        return 0 if $left <= 0;

        $self->{sel}->can_read($left) or next;

        my $n = sysread($self->{sock}, my $data, 65536);

        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            $self->{eof} = 'error';
            $self->{error} = "$!";
            return 0;
        }

        if ($n == 0) {
            $self->{eof} = 'eof';
            return 0;
        }

        $self->{buf} .= $data;
        return 1;
    }
}


# The bytes of one frame.  Options:
#   fin => 1, rsv => 0..7 (the three reserved bits), mask => 1,
#   mask_key => 4 bytes, len_bytes => 0 (shortest), 2 or 8 to force the
#   16- or 64-bit length, len => a length to declare other than the
#   payload's
sub frame {
    shift if @_ && (ref $_[0] || $_[0] eq __PACKAGE__);
    my ($opcode, $payload, %o) = @_;

    $payload = '' unless defined $payload;

    my $fin = exists $o{fin} ? $o{fin} : 1;
    my $mask = exists $o{mask} ? $o{mask} : 1;
    my $rsv = $o{rsv} || 0;
    my $len = defined $o{len} ? $o{len} : length $payload;
    my $lb = $o{len_bytes}
        || ($len < 126 ? 0 : $len < 65536 ? 2 : 8);

    my $b = chr(($fin ? 0x80 : 0) | (($rsv & 7) << 4) | ($opcode & 0x0f));
    my $m = $mask ? 0x80 : 0;

    if ($lb == 2) {
        $b .= chr($m | 126) . pack('n', $len);

    } elsif ($lb == 8) {
        $b .= chr($m | 127) . pack('Q>', $len);

    } else {
        $b .= chr($m | $len);
    }

    if ($mask) {
        my $key = defined $o{mask_key} ? $o{mask_key}
            : pack('N', int rand 2**32);
        $b .= $key . mask_payload($payload, $key);

    } else {
        $b .= $payload;
    }

    return $b;
}

sub mask_payload {
    my ($data, $key) = @_;
    my $n = length $data;
    my $k = substr($key x (int($n / 4) + 1), 0, $n);
    return $data ^ $k;
}

# a close frame's payload: code (none if undef) and reason
sub close_payload {
    my ($code, $reason) = @_;
    return '' unless defined $code;
    return pack('n', $code) . (defined $reason ? $reason : '');
}


# Writes bytes, all of them or none more once the timeout passed.
# chunk => n writes n bytes at a time, delay => seconds between them.
# Returns the number of bytes written (short only on timeout or error).
sub send_raw {
    my ($self, $bytes, %o) = @_;

    my $timeout = $o{timeout} || $TIMEOUT;
    my $chunk = $o{chunk} || length($bytes) || 1;
    my $sent = 0;

    while ($sent < length $bytes) {
        my $piece = substr($bytes, $sent, $chunk);
        my $w = $self->write_some($piece, time + $timeout);

        $sent += $w;
        return $sent if $w < length $piece;

        sleep $o{delay} if $o{delay} && $sent < length $bytes;
    }

    return $sent;
}

# writes what the socket takes before the deadline
sub write_some {
    my ($self, $data, $end) = @_;

    my $sent = 0;

    while ($sent < length $data) {
        my $n = syswrite($self->{sock}, $data, length($data) - $sent, $sent);

        if (defined $n) {
            $sent += $n;
            next;
        }

        return $sent unless $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;

        my $left = $end - time;
        return $sent if $left <= 0;

        $self->{sel}->can_write($left);
    }

    return $sent;
}

sub send_frame {
    my ($self, @frame) = @_;
    my $bytes = frame(@frame);
    return $self->send_raw($bytes) == length $bytes;
}

sub send_close {
    my ($self, $code, $reason) = @_;
    return $self->send_frame(CLOSE, close_payload($code, $reason));
}


# The next frame from the server: {fin, rsv, opcode, masked, len_bytes
# (0, 2 or 8: how its length was encoded), payload},
# undef if none came within the timeout, 'eof' if the server closed the
# connection (or reset it) first.
sub read_frame {
    my ($self, $timeout) = @_;

    my $end = time + (defined $timeout ? $timeout : $TIMEOUT);

    for (;;) {
        my $f = $self->parse_frame;
        return $f if $f;

        next if $self->fill($end);

        return 'eof' if $self->{eof};
        return undef;
    }
}

sub parse_frame {
    my ($self) = @_;

    my $buf = \$self->{buf};
    return undef if length $$buf < 2;

    my ($b0, $b1) = unpack('CC', $$buf);
    my $len = $b1 & 0x7f;
    my $off = 2;
    my $lb = $len == 126 ? 2 : $len == 127 ? 8 : 0;

    if ($len == 126) {
        return undef if length $$buf < 4;
        $len = unpack('n', substr($$buf, 2, 2));
        $off = 4;

    } elsif ($len == 127) {
        return undef if length $$buf < 10;
        $len = unpack('Q>', substr($$buf, 2, 8));
        $off = 10;
    }

    my $masked = $b1 & 0x80;
    my $key;

    if ($masked) {
        return undef if length $$buf < $off + 4;
        $key = substr($$buf, $off, 4);
        $off += 4;
    }

    return undef if length $$buf < $off + $len;

    my $payload = substr($$buf, $off, $len);
    substr($$buf, 0, $off + $len, '');

    $payload = mask_payload($payload, $key) if $masked;

    return {
        fin     => ($b0 >> 7) & 1,
        rsv     => ($b0 >> 4) & 7,
        opcode  => $b0 & 0x0f,
        masked  => $masked ? 1 : 0,
        len_bytes => $lb,
        payload => $payload,
    };
}

# 1 if the server closes the connection within the timeout, with nothing
# more sent before; 0 otherwise
sub wait_eof {
    my ($self, $timeout) = @_;

    my $f = $self->read_frame(defined $timeout ? $timeout : $TIMEOUT);
    return 1 if defined $f && !ref $f && $f eq 'eof';

    $self->{unexpected} = $f;
    return 0;
}

# Reads frames up to a close frame.  Returns (code, reason, frames before
# it): code is the number sent, 'empty' for a close frame without a
# payload ('short' for one of a single byte), undef when no close frame
# came, and then the reason is 'eof' or undef (timeout).  The frames met
# on the way (pongs, pings, echoes) are in the list reference.
sub read_close {
    my ($self, $timeout) = @_;

    my $end = time + (defined $timeout ? $timeout : $TIMEOUT);
    my @before;

    for (;;) {
        my $f = $self->read_frame(_max(0, $end - time));

        return (undef, $f, \@before) if !defined $f || !ref $f;

        if ($f->{opcode} != CLOSE) {
            push @before, $f;
            next;
        }

        return ('empty', '', \@before) if $f->{payload} eq '';
        return ('short', '', \@before) if length $f->{payload} < 2;

        return (unpack('n', $f->{payload}), substr($f->{payload}, 2),
            \@before);
    }
}

sub _max { $_[0] > $_[1] ? $_[0] : $_[1] }

# Test helper, three assertions: the next frame is a close with this
# code (any_before => 1 allows other frames first), and the server closes
# the connection right after it, within eof_timeout (3s: keep the
# server's race_ws_close_timeout longer, so that hanging up only when the
# timer fires cannot pass).  Returns (code, closed, reason).
sub expect_close {
    my ($self, $want, $name, %o) = @_;

    my ($code, $reason, $before) = $self->read_close($o{timeout});

    my $ok = is($code, $want, "$name: close $want");
    $ok &&= is(scalar @$before, 0, "$name: no frame before the close")
        unless $o{any_before};
    diag("frames before the close: "
        . join(', ', map { "opcode $_->{opcode}" } @$before)) if !$ok;

    my $closed = $self->wait_eof($o{eof_timeout} || 3);
    ok($closed, "$name: connection closed after the close frame");

    return ($code, $closed, $reason);
}

1;
