#!/usr/bin/perl

# WebSocket echo endpoint (race_ws_echo): messages of every length
# encoding, fragments with pings between them, any split of the input,
# every protocol error with its close code, the close handshake, message
# size limits, server pings and the idle timeout, backpressure on a
# client that does not read, and the goodbye at a graceful shutdown.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(sleep time);
use Race::Test;
use Race::WS;

use constant {
    CONT => Race::WS::CONT, TEXT => Race::WS::TEXT,
    BINARY => Race::WS::BINARY, CLOSE => Race::WS::CLOSE,
    PING => Race::WS::PING, PONG => Race::WS::PONG,
};

my $t = Race::Test->new;
my $port = $t->port;
my $slow = $t->port;

# close timeouts are long where the tests expect the server to close the
# connection itself right away, so waiting for one cannot pass for it

$t->nginx(listen => [$port, $slow], main => 'worker_shutdown_timeout 3s;',
    http => <<"EOF");
    server {
        listen 127.0.0.1:$port;

        race_ws_close_timeout 10s;
        large_client_header_buffers 4 64k;

        location /echo {
            race_ws_echo;
            race_ws_max_message 1m;
        }

        location /limit {
            race_ws_echo;
            race_ws_max_message 1000;
        }

        location /idle {
            race_ws_echo;
            race_ws_ping_interval 300ms;
            race_ws_idle_timeout 1s;
        }

        location /quick-close {
            race_ws_echo;
            race_ws_close_timeout 1s;
        }
    }

    server {
        listen 127.0.0.1:$slow sndbuf=32k rcvbuf=32k;

        location /echo {
            race_ws_echo;
            race_ws_max_message 1m;
            race_ws_send_queue 4;
        }
    }
EOF

sub ws {
    my (%a) = @_;
    return Race::WS->start(port => $port, path => '/echo', %a);
}

# the next frame is a whole server frame with this opcode and payload
sub frame_is {
    my ($ws, $opcode, $payload, $name, $timeout) = @_;

    my $f = $ws->read_frame($timeout || 5);

    unless (ref $f) {
        fail("$name: " . ($f ? 'connection closed' : 'timed out'));
        return undef;
    }

    my $ok = is($f->{opcode}, $opcode, "$name: opcode $opcode");
    $ok &&= ok($f->{fin} && !$f->{rsv} && !$f->{masked},
        "$name: fin, no rsv, not masked");
    $ok &&= ok($f->{payload} eq $payload, "$name: payload")
        or diag('got ' . length($f->{payload}) . ' bytes, expected '
            . length($payload));

    return $f;
}

sub echo_ok {
    my ($ws, $opcode, $payload, $name, %o) = @_;

    $ws->send_frame($opcode, $payload, %o) or fail("$name: send");
    return frame_is($ws, $opcode, $payload, $name);
}

sub bytes {
    my ($n) = @_;
    return join '', map { chr(($_ * 7 + ($_ >> 8)) & 0xff) } 0 .. $n - 1;
}

sub text {
    my ($n) = @_;
    return substr('race ws echo 0123456789 ' x (int($n / 24) + 1), 0, $n);
}

# a protocol error on a fresh connection: its close code, and the server
# hangs up without waiting for our close frame
sub broken {
    my ($name, $code, @frames) = @_;

    my $ws = ws(%{ ref $frames[0] eq 'HASH' ? shift @frames : {} });
    $ws->send_raw(join '', @frames);
    $ws->expect_close($code, $name);
}


# echo, every length encoding

{
    my $ws = ws();

    echo_ok($ws, TEXT, 'hello', 'text');
    echo_ok($ws, BINARY, join('', map { chr } 0 .. 255), 'binary');
    echo_ok($ws, TEXT, "gr\xc3\xbc\xc3\x9fe \xe2\x82\xac \xf0\x9f\x9a\xb2",
        'text, multi-byte utf-8');

    for my $n (0, 1, 125, 126, 127, 65535, 65536, 100000) {
        my $f = echo_ok($ws, BINARY, bytes($n), "binary $n bytes");
        is($f && $f->{len_bytes}, $n < 126 ? 0 : $n < 65536 ? 2 : 8,
            "binary $n bytes: shortest length encoding");
        echo_ok($ws, TEXT, text($n), "text $n bytes");
    }

    echo_ok($ws, TEXT, 'sixteen', 'forced 16-bit length', len_bytes => 2);
    echo_ok($ws, TEXT, 'sixty-four', 'forced 64-bit length', len_bytes => 8);
    echo_ok($ws, BINARY, bytes(300), 'forced 64-bit length, 300 bytes',
        len_bytes => 8);
    echo_ok($ws, TEXT, 'zero mask', 'zero mask key',
        mask_key => "\0\0\0\0");

    $ws->send_close(1000);
    $ws->expect_close(1000, 'after the echoes');
}


# pings and pongs

{
    my $ws = ws();

    $ws->send_frame(PING, 'are you there');
    frame_is($ws, PONG, 'are you there', 'pong');

    $ws->send_frame(PING, '');
    frame_is($ws, PONG, '', 'pong, empty');

    my $p = bytes(125);
    $ws->send_frame(PING, $p);
    frame_is($ws, PONG, $p, 'pong, 125 bytes');

    # an unsolicited pong is no error and gets no answer
    $ws->send_frame(PONG, 'heartbeat');
    echo_ok($ws, TEXT, 'still here', 'after an unsolicited pong');
}


# fragments

{
    my $ws = ws();

    $ws->send_frame(TEXT, 'Hel', fin => 0);
    $ws->send_frame(PING, 'p1');
    frame_is($ws, PONG, 'p1', 'ping inside a message: pong first');
    $ws->send_frame(CONT, 'lo', fin => 0);
    $ws->send_frame(PING, '');
    $ws->send_frame(CONT, ', world', fin => 1);
    frame_is($ws, PONG, '', 'second ping inside a message');
    frame_is($ws, TEXT, 'Hello, world', 'fragmented text reassembled');

    $ws->send_raw(Race::WS::frame(BINARY, '', fin => 0)
        . Race::WS::frame(CONT, "\x00\x01\x02", fin => 0)
        . Race::WS::frame(CONT, '', fin => 0)
        . Race::WS::frame(CONT, "\xff", fin => 1));
    frame_is($ws, BINARY, "\x00\x01\x02\xff",
        'fragmented binary with empty fragments');

    $ws->send_raw(Race::WS::frame(TEXT, '', fin => 0)
        . Race::WS::frame(CONT, '', fin => 1));
    frame_is($ws, TEXT, '', 'fragmented empty message');

    # bigger than the server's read buffer, fragments of every encoding
    my $big = bytes(200000);
    $ws->send_raw(Race::WS::frame(BINARY, substr($big, 0, 100), fin => 0)
        . Race::WS::frame(CONT, substr($big, 100, 70000), fin => 0)
        . Race::WS::frame(CONT, substr($big, 70100, 129900), fin => 1));
    frame_is($ws, BINARY, $big, 'fragmented 200000 bytes');

    # multi-byte characters split between fragments
    $ws->send_raw(Race::WS::frame(TEXT, "a\xe2", fin => 0)
        . Race::WS::frame(CONT, "\x82", fin => 0)
        . Race::WS::frame(CONT, "\xacb", fin => 1));
    frame_is($ws, TEXT, "a\xe2\x82\xacb", 'euro sign split in three');

    $ws->send_raw(join '', map {
        Race::WS::frame($_ ? CONT : TEXT, substr("\xf0\x9f\x9a\xb4", $_, 1),
            fin => $_ == 3)
    } 0 .. 3);
    frame_is($ws, TEXT, "\xf0\x9f\x9a\xb4", 'four-byte character split');
}


# any split of the input

{
    my $ws = ws();
    my $msg = text(200);

    is($ws->send_raw(Race::WS::frame(TEXT, $msg), chunk => 1,
        delay => 0.002), 208, 'one byte per write');
    frame_is($ws, TEXT, $msg, 'message sent one byte per write');

    # a 16-bit length and a ping in the middle of a message, byte by byte
    $ws->send_raw(Race::WS::frame(BINARY, bytes(300), fin => 0)
        . Race::WS::frame(PING, 'in between')
        . Race::WS::frame(CONT, 'end', fin => 1), chunk => 1, delay => 0.001);
    frame_is($ws, PONG, 'in between', 'byte by byte: pong');
    frame_is($ws, BINARY, bytes(300) . 'end', 'byte by byte: fragments');

    # 64-bit length, split inside the length and the mask
    my $f = Race::WS::frame(BINARY, bytes(70000));
    $ws->send_raw(substr($f, 0, 3));
    sleep 0.05;
    $ws->send_raw(substr($f, 3, 8));
    sleep 0.05;
    $ws->send_raw(substr($f, 11));
    frame_is($ws, BINARY, bytes(70000), 'split in the header');

    # several messages in one write
    my @m = ('one', bytes(1000), '', text(70000), 'five');
    $ws->send_raw(join '',
        (map { Race::WS::frame($_ % 2 ? BINARY : TEXT, $m[$_]) } 0 .. 4),
        Race::WS::frame(PING, 'last'));

    for my $i (0 .. 4) {
        frame_is($ws, $i % 2 ? BINARY : TEXT, $m[$i],
            "one write, message $i");
    }
    frame_is($ws, PONG, 'last', 'one write, ping at the end');
}

{
    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(path => '/echo',
        after => Race::WS::frame(TEXT, 'early') . Race::WS::frame(PING, 'bird'));

    is($res && $res->{status}, 101, 'frames behind the handshake: 101');
    frame_is($ws, TEXT, 'early', 'frame in the handshake write');
    frame_is($ws, PONG, 'bird', 'second frame in the handshake write');
}


{
    # frames that came with a handshake too big for the first header
    # buffer, more than the server reads at a time afterwards
    my @m = map { bytes(5000) . $_ } 1 .. 8;
    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(path => '/echo',
        headers => ['X-Padding' => 'p' x 3000],
        after => join '', map { Race::WS::frame(BINARY, $_) } @m);

    is($res && $res->{status}, 101, 'big handshake: 101');
    frame_is($ws, BINARY, $m[$_], "big handshake, frame $_ behind it")
        for 0 .. $#m;
}


# protocol errors

broken('unmasked frame', 1002, Race::WS::frame(TEXT, 'hi', mask => 0));
broken('unmasked empty frame', 1002, Race::WS::frame(TEXT, '', mask => 0));

for my $rsv (1, 2, 4, 7) {
    broken("rsv $rsv", 1002, Race::WS::frame(TEXT, 'hi', rsv => $rsv));
}

broken('rsv on a ping', 1002, Race::WS::frame(PING, '', rsv => 4));

for my $op (3, 7, 0xb, 0xf) {
    broken("opcode $op", 1002, Race::WS::frame($op, 'x'));
}

broken('ping of 126 bytes', 1002, Race::WS::frame(PING, bytes(126)));
broken('close of 126 bytes', 1002,
    Race::WS::frame(CLOSE, pack('n', 1000) . 'x' x 124));
broken('fragmented ping', 1002, Race::WS::frame(PING, 'x', fin => 0));
broken('fragmented pong', 1002, Race::WS::frame(PONG, 'x', fin => 0));
broken('fragmented close', 1002,
    Race::WS::frame(CLOSE, pack('n', 1000), fin => 0));

broken('continuation first', 1002, Race::WS::frame(CONT, 'x'));
{
    my $ws = ws();
    $ws->send_raw(Race::WS::frame(TEXT, 'whole') . Race::WS::frame(CONT, 'x'));
    frame_is($ws, TEXT, 'whole', 'continuation after a whole message: echo');
    $ws->expect_close(1002, 'continuation after a whole message');
}
broken('text inside a message', 1002,
    Race::WS::frame(TEXT, 'a', fin => 0), Race::WS::frame(TEXT, 'b'));
broken('binary inside a message', 1002,
    Race::WS::frame(BINARY, 'a', fin => 0), Race::WS::frame(BINARY, 'b'));

broken('64-bit length with the top bit', 1002,
    Race::WS::frame(BINARY, '', len => 1 << 63, len_bytes => 8));

for my $bad ("\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
    "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\x80", "ok\xe2\x82")
{
    my $hex = unpack 'H*', $bad;
    broken("bad utf-8 $hex", 1007, Race::WS::frame(TEXT, $bad));
}

broken('bad utf-8 in the last fragment', 1007,
    Race::WS::frame(TEXT, 'fine ', fin => 0),
    Race::WS::frame(CONT, "\xc3\x28", fin => 1));

broken('fragmented text ending inside a character', 1007,
    Race::WS::frame(TEXT, 'fine ', fin => 0),
    Race::WS::frame(CONT, "\xe2\x82", fin => 1));

# the server does not wait for the end of a message it knows is bad
broken('bad utf-8 in the second fragment, fail fast', 1007,
    Race::WS::frame(TEXT, "ok \xe2\x82", fin => 0),
    Race::WS::frame(CONT, "\x41 and more", fin => 0));

# binary is not checked
{
    my $ws = ws();
    echo_ok($ws, BINARY, "\xff\xc0\xaf", 'binary is not utf-8 checked');
}

broken('close of 1 byte', 1002, Race::WS::frame(CLOSE, "\x03"));

for my $code (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535) {
    broken("close code $code", 1002,
        Race::WS::frame(CLOSE, pack('n', $code)));
}

broken('close reason bad utf-8', 1007,
    Race::WS::frame(CLOSE, pack('n', 1000) . "bye \xff"));
broken('close reason ending inside a character', 1007,
    Race::WS::frame(CLOSE, pack('n', 1000) . "bye \xe2\x82"));

# nothing after a broken frame is read: no echo before the close
broken('frames after an error are ignored', 1002,
    Race::WS::frame(CONT, 'x'), Race::WS::frame(TEXT, 'not echoed'),
    Race::WS::frame(PING, 'not answered'));


# message size limit

{
    my $ws = ws(path => '/limit');

    echo_ok($ws, BINARY, bytes(1000), 'limit: exactly the limit');
    echo_ok($ws, TEXT, text(1000), 'limit: text, exactly the limit');

    $ws->send_raw(Race::WS::frame(BINARY, bytes(500), fin => 0)
        . Race::WS::frame(CONT, bytes(300), fin => 0)
        . Race::WS::frame(CONT, bytes(200), fin => 1));
    frame_is($ws, BINARY, bytes(500) . bytes(300) . bytes(200),
        'limit: fragments adding up to the limit');
}

broken('limit: one byte over', 1009, { path => '/limit' },
    Race::WS::frame(BINARY, bytes(1001)));
broken('limit: text one byte over', 1009, { path => '/limit' },
    Race::WS::frame(TEXT, text(1001)));
broken('limit: fragments one byte over', 1009, { path => '/limit' },
    Race::WS::frame(BINARY, bytes(500), fin => 0),
    Race::WS::frame(CONT, bytes(300), fin => 0),
    Race::WS::frame(CONT, bytes(201), fin => 1));

# a declared length past the limit fails before its payload is sent
broken('limit: declared length', 1009, { path => '/limit' },
    substr(Race::WS::frame(BINARY, bytes(5000)), 0, 8));
broken('limit: huge declared length', 1009, { path => '/limit' },
    Race::WS::frame(BINARY, '', len => 1 << 40, len_bytes => 8));

# control frames do not count and are not limited by it
{
    my $ws = ws(path => '/limit');

    $ws->send_raw(Race::WS::frame(TEXT, text(999), fin => 0)
        . Race::WS::frame(PING, bytes(125))
        . Race::WS::frame(CONT, 'x', fin => 1));
    frame_is($ws, PONG, bytes(125), 'limit: ping inside a full message');
    frame_is($ws, TEXT, text(999) . 'x', 'limit: message around a ping');
}


# close handshake

for my $c ([1000, 'bye'], [1000, ''], [1001, 'going'], [1003, ''],
    [1011, 'oops'], [3000, 'registered'], [4999, 'private'])
{
    my ($code, $reason) = @$c;
    my $ws = ws();
    $ws->send_close($code, $reason);
    $ws->expect_close($code, "close $code '$reason' echoed");
}

{
    my $ws = ws();
    $ws->send_frame(CLOSE, '');
    $ws->expect_close('empty', 'empty close answered with an empty close');
}

{
    my $ws = ws();
    $ws->send_close(1000, "\xc3\xa0 bient\xc3\xb4t");
    $ws->expect_close(1000, 'close with a utf-8 reason');
}

{
    # a close in the middle of a fragmented message
    my $ws = ws();
    $ws->send_raw(Race::WS::frame(TEXT, 'half', fin => 0)
        . Race::WS::frame(CLOSE, pack('n', 1000)));
    $ws->expect_close(1000, 'close inside a message');
}

{
    # what follows a close frame is not read
    my $ws = ws();
    $ws->send_raw(Race::WS::frame(CLOSE, pack('n', 1000))
        . Race::WS::frame(TEXT, 'too late') . Race::WS::frame(PING, 'late'));
    $ws->expect_close(1000, 'frames after the close are ignored');
}

{
    # a close sent one byte at a time
    my $ws = ws();
    $ws->send_raw(Race::WS::frame(CLOSE, pack('n', 4000) . 'slow'),
        chunk => 1, delay => 0.005);
    $ws->expect_close(4000, 'close one byte per write');
}


# server pings and the idle timeout

{
    # a silent client is pinged, then closed with 1001
    my $ws = ws(path => '/idle');
    my $start = time;
    my ($code, $reason, $before) = $ws->read_close(5);
    my $after = time - $start;

    my @pings = grep { $_->{opcode} == PING } @$before;
    cmp_ok(scalar @pings, '>=', 2, 'idle: silent client pinged');
    is(scalar @pings, scalar @$before, 'idle: nothing but pings');
    ok(!grep({ $_->{payload} ne '' || $_->{masked} } @pings),
        'idle: pings are empty and unmasked');
    is($code, 1001, 'idle: closed with 1001 after the timeout');
    cmp_ok($after, '>=', 0.9, 'idle: not before the timeout');

    # the server waits for our close frame, then hangs up at once
    # (its close timeout is 10s)
    ok(!defined $ws->read_frame(0.3), 'idle: server waits for our close');
    $ws->send_close(1001);
    ok($ws->wait_eof(3), 'idle: closed once our close frame came');
}

{
    # a client that answers the server's pings is not idle
    my $ws = ws(path => '/idle');
    my ($pings, $other) = (0, 0);
    my $end = time + 2;

    while (time < $end) {
        my $f = $ws->read_frame($end - time) or next;
        last unless ref $f;

        if ($f->{opcode} == PING) {
            $pings++;
            $ws->send_frame(PONG, $f->{payload});
        } else {
            $other++;
        }
    }

    cmp_ok($pings, '>=', 2, 'idle: pings answered');
    is($other, 0, 'idle: answering pings keeps the connection open');
    echo_ok($ws, TEXT, 'awake', 'idle: echo after 2s of pongs');
}

{
    # unsolicited pongs are data from the client too
    my $ws = ws(path => '/idle');
    my $end = time + 2;
    my @got;

    while (time < $end) {
        $ws->send_frame(PONG, 'tick');
        my $f = $ws->read_frame(0.2);
        push @got, $f if defined $f;
    }

    is(scalar @got, 0, 'idle: pongs every 200ms, no ping, no close')
        or diag(join ', ', map { ref $_ ? "opcode $_->{opcode}" : $_ } @got);
    echo_ok($ws, TEXT, 'open', 'idle: still open after 2s of pongs');
}


# backpressure: a client that sends without reading

{
    my $n = 200;
    my $size = 32768;
    my @msg = map { pack('N', $_) . chr($_ & 0xff) x ($size - 4) } 1 .. $n;
    my $out = join '', map { Race::WS::frame(BINARY, $_) } @msg;

    my $ws = Race::WS->start(port => $slow, path => '/echo',
        rcvbuf => 32768, sndbuf => 32768);

    # write until the server stops reading
    my $sent = $ws->write_some($out, time + 2);
    cmp_ok($sent, '<', length($out) / 2,
        'backpressure: server stops reading a client that does not read');

    # then read everything while sending the rest
    my ($got, $bad, $last) = (0, 0, 0);
    my $end = time + 60;

    while ($got < $n && time < $end) {
        if ($sent < length $out) {
            $sent += $ws->write_some(substr($out, $sent), time + 0.01);
        }

        $ws->fill(time + 0.01);

        while (my $f = $ws->parse_frame) {
            my $i = unpack('N', $f->{payload});
            $bad++ unless $f->{opcode} == BINARY && $i == $got + 1
                && $f->{payload} eq $msg[$i - 1];
            $got++;
        }

        last if $ws->{eof};
    }

    is($sent, length $out, 'backpressure: everything sent');
    is($got, $n, "backpressure: $n echoes");
    is($bad, 0, 'backpressure: in order and intact');

    echo_ok($ws, TEXT, 'after the flood', 'backpressure: still usable');
    $ws->send_close(1000);
    $ws->expect_close(1000, 'backpressure: close');
}


{
    # A client that half-closes after its close frame still gets every
    # answer.  It reads nothing at first, so the server stops reading
    # with the end of the stream already there, and later reads the
    # close frame and the end of the stream in one go.
    my @msg = map { pack('N', $_) . bytes(32764) } 1 .. 40;
    my $ws = Race::WS->start(port => $slow, path => '/echo',
        rcvbuf => 32768, sndbuf => 32768);

    # reading only when the writes stall, so the server is still behind
    # when the close frame and the end of the stream reach it
    my $out = join('', map { Race::WS::frame(BINARY, $_) } @msg)
        . Race::WS::frame(CLOSE, pack('n', 1000) . 'done');
    my ($sent, @got) = (0);
    my $end = time + 20;

    while ($sent < length $out && time < $end) {
        my $w = $ws->write_some(substr($out, $sent), time + 0.2);
        $sent += $w;
        push @got, $ws->read_frame(1) unless $w;
    }

    is($sent, length $out, 'half-close: all sent');
    shutdown($ws->sock, 1);
    sleep 0.3;

    my $ok = 0;
    for my $m (@msg) {
        my $f = @got ? shift @got : $ws->read_frame(5);
        last unless ref $f && $f->{payload} eq $m;
        $ok++;
    }
    is($ok, scalar @msg, 'half-close: every echo');
    $ws->expect_close(1000, 'half-close: close answered');
}


# graceful shutdown: open connections get a 1001 close

{
    my $polite = ws();
    my $silent = ws(path => '/quick-close');
    my $busy = ws();
    my $stubborn = ws();

    echo_ok($polite, TEXT, 'before shutdown', 'shutdown: open');
    echo_ok($silent, TEXT, 'before shutdown', 'shutdown: second open');

    # in the middle of a message
    $busy->send_frame(TEXT, 'half', fin => 0);
    sleep 0.2;

    kill 'QUIT', $t->pid('nginx');

    # before the 1s close timer of the silent one wakes the worker up
    my ($code, $reason) = $polite->read_close(0.9);
    is($code, 1001, 'shutdown: close 1001');
    like($reason, qr/shut/, 'shutdown: reason');

    ($code) = $busy->read_close(5);
    is($code, 1001, 'shutdown: close 1001 inside a message');

    $polite->send_close(1001);
    ok($polite->wait_eof(3), 'shutdown: closed after our answer');

    $busy->send_close(1000);
    ok($busy->wait_eof(3), 'shutdown: second closed after our answer');

    # a client that never answers is dropped after race_ws_close_timeout
    my $before;
    ($code, $reason, $before) = $silent->read_close(5);
    is($code, 1001, 'shutdown: close 1001, no answer')
        or diag("got: " . ($reason // 'timeout') . ", frames before: "
            . scalar @$before);
    ok($silent->wait_eof(5), 'shutdown: dropped after the close timeout');

    # and one whose close timeout (10s) outlasts worker_shutdown_timeout
    # (3s) is dropped when the worker's time is up
    ($code) = $stubborn->read_close(1);
    is($code, 1001, 'shutdown: close 1001, stubborn');
    ok($stubborn->wait_eof(5), 'shutdown: dropped at worker_shutdown_timeout');

    is($t->stop_nginx, 0, 'shutdown: nginx exited cleanly');
}

$t->done;
