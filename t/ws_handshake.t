#!/usr/bin/perl

# WebSocket handshake: the 101 answer and its accept key, every way a
# handshake is refused with its status, headers and JSON reason, and the
# origin allowlist.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use Race::Test;
use Race::WS;

my $t = Race::Test->new;
my $port = $t->port;

$t->nginx(listen => [$port], http => <<"EOF");
    server {
        listen 127.0.0.1:$port;

        location /echo {
            race_ws_echo;
        }

        location /origin {
            race_ws_echo;
            race_ws_allow_origin https://a.example http://localhost:8080;
        }
    }
EOF

# one handshake on a fresh connection: the response
sub hs {
    my (%a) = @_;

    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(%a);
    $ws->disconnect;

    return $res || { status => 0, headers => {}, body => '' };
}

# a refused handshake: status, JSON body {"error":{"code","message"}}
sub refused {
    my ($name, $status, $code, %a) = @_;

    my $res = hs(%a);

    is($res->{status}, $status, "$name: $status");
    like(Race::WS::header($res, 'Content-Type') || '', qr{^application/json},
        "$name: json");

    my $body = eval { decode_json($res->{body}) };
    is(ref $body && ref $body->{error} && $body->{error}{code}, $code,
        "$name: error code $code")
        or diag("body: $res->{body}");
    ok(ref $body && ref $body->{error} && length $body->{error}{message},
        "$name: error message");
    is(Race::WS::header($res, 'Sec-WebSocket-Accept'), undef,
        "$name: no accept key");

    return $res;
}

sub upgraded {
    my ($name, %a) = @_;

    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(%a) || { status => 0 };

    is($res->{status}, 101, "$name: 101");
    is(Race::WS::header($res, 'Sec-WebSocket-Accept'),
        Race::WS::accept_key($ws->{key}), "$name: accept key")
        if $res->{status} == 101;

    $ws->disconnect;

    return $res;
}


# success

{
    my $ws = Race::WS->new(port => $port);
    my $res = $ws->handshake(path => '/echo');

    is($res->{status}, 101, 'handshake: 101');
    like($res->{line}, qr{^HTTP/1\.1 101 Switching Protocols$},
        '101 status line');
    is(Race::WS::header($res, 'Upgrade'), 'websocket', 'upgrade header');
    like(Race::WS::header($res, 'Connection'), qr/^upgrade$/i,
        'connection header');
    is(Race::WS::header($res, 'Sec-WebSocket-Accept'),
        Race::WS::accept_key($ws->{key}), 'accept key');
    is(Race::WS::header($res, 'Content-Length'), undef, 'no content length');
    is(Race::WS::header($res, 'Transfer-Encoding'), undef, 'not chunked');

    ok($ws->send_frame(Race::WS::TEXT, 'after the handshake'), 'send');
    my $f = $ws->read_frame(3);
    is(ref $f && $f->{payload}, 'after the handshake', 'connection upgraded');
}

# the example of RFC 6455 1.3, computed here, and the server agrees
is(Race::WS::accept_key('dGhlIHNhbXBsZSBub25jZQ=='),
    's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'client accept key computation');
upgraded('rfc key', key => 'dGhlIHNhbXBsZSBub25jZQ==');

# header values are case-insensitive token lists
upgraded('connection list', connection => 'keep-alive, Upgrade');
upgraded('case', upgrade => 'WebSocket', connection => 'UPGRADE');
upgraded('upgrade list', upgrade => 'foo/1, websocket');
upgraded('empty body', body => '');


# refused

{
    my $res = refused('post', 405, 'bad_handshake', method => 'POST');
    is(Race::WS::header($res, 'Allow'), 'GET', 'post: allow header');

    $res = refused('post with body', 405, 'bad_handshake', method => 'POST',
        body => 'hello');
    is(Race::WS::header($res, 'Allow'), 'GET', 'post with body: allow');

    refused('put', 405, 'bad_handshake', method => 'PUT');
}

refused('http/1.0', 400, 'bad_handshake', proto => 'HTTP/1.0');
refused('body', 400, 'bad_handshake', body => 'hello');
refused('chunked body', 400, 'bad_handshake',
    headers => ['Transfer-Encoding' => 'chunked'], after => "0\r\n\r\n");

{
    my $res = refused('no upgrade', 426, 'upgrade_required',
        upgrade => undef);
    is(Race::WS::header($res, 'Upgrade'), 'websocket',
        'no upgrade: upgrade header');
    like($res->{line}, qr{^HTTP/1\.1 426 Upgrade Required$},
        'no upgrade: status line');

    $res = refused('other upgrade', 426, 'upgrade_required',
        upgrade => 'h2c');
    is(Race::WS::header($res, 'Upgrade'), 'websocket',
        'other upgrade: upgrade header');
}

# a browser or curl opening the endpoint as a page
{
    my $s = Race::WS->new(port => $port);
    $s->send_raw("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n");
    my $res = $s->read_response || { status => 0, body => '' };
    $s->disconnect;

    is($res->{status}, 426, 'plain get: 426');
    is(Race::WS::header($res, 'Upgrade'), 'websocket',
        'plain get: upgrade header');
    my $body = eval { decode_json($res->{body}) } || {};
    is($body->{error} && $body->{error}{code}, 'upgrade_required',
        'plain get: json error');
}

refused('no connection', 400, 'bad_handshake', connection => undef);
refused('connection keep-alive', 400, 'bad_handshake',
    connection => 'keep-alive');
refused('connection upgraded', 400, 'bad_handshake',
    connection => 'upgraded');

for my $v (undef, 8, 14, '013', '') {
    my $name = 'version ' . (defined $v ? "'$v'" : 'missing');
    my $res = refused($name, 426, 'bad_version', version => $v);
    is(Race::WS::header($res, 'Sec-WebSocket-Version'), 13,
        "$name: supported version header");
}

refused('no key', 400, 'bad_handshake', key => undef);
refused('short key', 400, 'bad_handshake', key => 'AAAAAAAAAAAAAAAAAAAAAA');
refused('key of 15 bytes', 400, 'bad_handshake',
    key => 'AAAAAAAAAAAAAAAAAAAA');
refused('key of 17 bytes', 400, 'bad_handshake',
    key => 'AAAAAAAAAAAAAAAAAAAAAAA=');
refused('key not base64', 400, 'bad_handshake',
    key => 'AAAAAAAAAA!AAAAAAAAAAA==');
refused('duplicate key', 400, 'bad_handshake',
    headers => ['Sec-WebSocket-Key' => Race::WS::random_key()]);


# origins

upgraded('no allowlist, any origin', origin => 'https://elsewhere.example');
upgraded('allowed origin', path => '/origin', origin => 'https://a.example');
upgraded('second allowed origin', path => '/origin',
    origin => 'http://localhost:8080');
upgraded('allowed origin, other case', path => '/origin',
    origin => 'https://A.Example');
upgraded('no origin', path => '/origin');

refused('forbidden origin', 403, 'origin_not_allowed', path => '/origin',
    origin => 'https://evil.example');
refused('origin suffix', 403, 'origin_not_allowed', path => '/origin',
    origin => 'https://a.example.evil');
refused('origin prefix', 403, 'origin_not_allowed', path => '/origin',
    origin => 'https://a.exampl');
refused('origin scheme', 403, 'origin_not_allowed', path => '/origin',
    origin => 'http://a.example');
refused('origin port', 403, 'origin_not_allowed', path => '/origin',
    origin => 'https://a.example:8443');
refused('origin null', 403, 'origin_not_allowed', path => '/origin',
    origin => 'null');

like($t->read_file('error.log'),
    qr/origin "https:\/\/evil\.example" not allowed/,
    'forbidden origin logged');

$t->done;
