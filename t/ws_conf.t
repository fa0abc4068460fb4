#!/usr/bin/perl

# "nginx -t" on race_ws_* directives: a good configuration passes, and
# every bad value is refused with a message that names the directive and
# quotes the value.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;
use Race::Util qw(quoted);

my $t = Race::Test->new;
my $port = $t->port;

# a server with these lines in a WebSocket location (and server-level
# lines in srv)
sub conf {
    my ($loc, $srv) = @_;

    $srv ||= '';

    return <<"EOF";
    server {
        listen 127.0.0.1:$port;
        $srv

        location /ws {
            $loc
        }
    }
EOF
}

sub good {
    my ($name, $http) = @_;

    my ($rc, $out) = $t->nginx_test(http => $http);
    is($rc, 0, "$name: accepted") or diag($out);
    like($out, qr/test is successful/, "$name: test is successful");
}

# refused, with every pattern in @want found in the [emerg] line
sub bad {
    my ($name, $http, @want) = @_;

    my ($rc, $out) = $t->nginx_test(http => $http);
    isnt($rc, 0, "$name: refused");

    my ($emerg) = $out =~ /^(.*\[emerg\].*)$/m;
    ok($emerg, "$name: emerg message") or diag($out);
    $emerg ||= '';

    for my $re (@want) {
        like($emerg, $re, "$name: message matches $re");
    }

    unlike($out, qr/\[alert\]|\[crit\]|AddressSanitizer|runtime error/,
        "$name: nothing worse than the refusal");
}


# good

good('echo alone', conf('race_ws_echo;'));

good('every directive', conf(<<'EOF', 'race_ws_send_queue 16;'));
            race_ws_echo;
            race_ws_allow_origin https://a.example http://localhost:8080
                                 https://b.example:8443 http://127.0.0.1:3000
                                 http://[::1]:8080;
            race_ws_max_message 1m;
            race_ws_send_queue 65536;
            race_ws_ping_interval 20s;
            race_ws_idle_timeout 1m;
            race_ws_close_timeout 2s;
EOF

good('limits at their ends', conf(<<'EOF'));
            race_ws_echo;
            race_ws_max_message 125;
            race_ws_send_queue 1;
            race_ws_ping_interval 0;
            race_ws_idle_timeout 1ms;
            race_ws_close_timeout 1ms;
EOF

good('http level', "race_ws_max_message 64m; race_ws_ping_interval 1s;\n"
    . conf('race_ws_echo;'));


# bad values

bad('max message not a size', conf('race_ws_echo; race_ws_max_message abc;'),
    quoted('race_ws_max_message'), quoted('abc'));
bad('max message below 125', conf('race_ws_echo; race_ws_max_message 10;'),
    quoted('race_ws_max_message'), quoted('10'), qr/125/);
bad('max message 124', conf('race_ws_max_message 124;'),
    quoted('race_ws_max_message'), quoted('124'));
bad('max message above 64m', conf('race_ws_max_message 65m;'),
    quoted('race_ws_max_message'), quoted('65m'));
bad('max message negative', conf('race_ws_max_message -1;'),
    quoted('race_ws_max_message'), quoted('-1'));

bad('send queue 0', conf('race_ws_send_queue 0;'),
    quoted('race_ws_send_queue'), quoted('0'));
bad('send queue 100000', conf('race_ws_send_queue 100000;'),
    quoted('race_ws_send_queue'), quoted('100000'), qr/65536/);
bad('send queue not a number', conf('race_ws_send_queue many;'),
    quoted('race_ws_send_queue'), quoted('many'));

bad('ping interval not a time', conf('race_ws_ping_interval x;'),
    quoted('race_ws_ping_interval'), quoted('x'));
bad('idle timeout 0', conf('race_ws_idle_timeout 0;'),
    quoted('race_ws_idle_timeout'), quoted('0'));
bad('idle timeout not a time', conf('race_ws_idle_timeout soon;'),
    quoted('race_ws_idle_timeout'), quoted('soon'));
bad('close timeout 0', conf('race_ws_close_timeout 0;'),
    quoted('race_ws_close_timeout'), quoted('0'));
bad('close timeout not a time', conf('race_ws_close_timeout 5 s;'),
    quoted('race_ws_close_timeout'));

bad('ping interval above idle timeout',
    conf('race_ws_ping_interval 2s; race_ws_idle_timeout 1s;'),
    quoted('race_ws_ping_interval'), quoted('race_ws_idle_timeout'));
bad('ping interval equal to idle timeout',
    conf('race_ws_ping_interval 10s; race_ws_idle_timeout 10s;'),
    quoted('race_ws_ping_interval'), quoted('race_ws_idle_timeout'));
bad('ping interval above the default idle timeout',
    conf('race_ws_ping_interval 80s;'),
    quoted('race_ws_ping_interval'), quoted('race_ws_idle_timeout'));
bad('idle timeout below the default ping interval',
    conf('race_ws_idle_timeout 20s;'),
    quoted('race_ws_ping_interval'), quoted('race_ws_idle_timeout'));

for my $o ('not-an-origin', 'https://Upper.Example', 'https://a.example/path',
    'https://a.example/', 'https://', 'ftp://a.example', '*',
    'https://a.example:port', 'https://a.example:', 'https://a.example:99999',
    'https://user@a.example', 'https://a example')
{
    bad("origin '$o'", conf(qq{race_ws_allow_origin https://ok.example "$o";}),
        quoted('race_ws_allow_origin'), quoted($o));
}

bad('echo in a server block', conf('', 'race_ws_echo;'),
    quoted('race_ws_echo'), qr/not allowed here/);
bad('echo twice', conf('race_ws_echo; race_ws_echo;'),
    quoted('race_ws_echo'), qr/duplicate/);
bad('echo with an argument', conf('race_ws_echo on;'),
    quoted('race_ws_echo'), qr/number of arguments/);
bad('echo and another handler',
    conf('proxy_pass http://127.0.0.1:1; race_ws_echo;'),
    quoted('race_ws_echo'));

bad('max message twice', conf('race_ws_max_message 1k; race_ws_max_message 2k;'),
    quoted('race_ws_max_message'), qr/duplicate/);
bad('origins twice',
    conf('race_ws_allow_origin https://a.example; '
        . 'race_ws_allow_origin https://b.example;'),
    quoted('race_ws_allow_origin'), qr/duplicate/);

$t->done;
