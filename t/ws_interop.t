#!/usr/bin/perl

# The echo endpoint against an independently written client library
# (python3-websockets), over plain TCP and over TLS.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;

my $t = Race::Test->new;
my $dir = $t->dir;

system("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
    . " -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
    . " -keyout $dir/test.key -out $dir/test.crt 2>/dev/null") == 0
    or die "openssl failed\n";

my $port = $t->port;
my $tls = $t->port;

$t->nginx(listen => [$port, $tls], http => <<"EOF");
    server {
        listen 127.0.0.1:$port;
        listen 127.0.0.1:$tls ssl;
        ssl_certificate $dir/test.crt;
        ssl_certificate_key $dir/test.key;

        location /echo {
            race_ws_echo;
            race_ws_max_message 100k;
        }
    }
EOF

for my $url ("ws://127.0.0.1:$port/echo", "wss://localhost:$tls/echo") {
    my $out = `/usr/bin/python3 t/tools/ws_interop.py $url $dir/test.crt 2>&1`;
    my $rc = $? >> 8;
    my @ok = $out =~ /^ok \d+/mg;
    my @nok = $out =~ /^not ok \d+.*$/mg;

    ok($rc == 0 && @ok >= 8 && !@nok, "python websockets client, $url")
        or diag($out);
}

$t->done;
