#!/usr/bin/perl

# The configurations we ship pass "nginx -t": conf/nginx.conf as
# ./build.sh run uses it, and conf/nginx.prod.conf with its hosts, paths
# and certificates replaced by stand-ins in a temp folder.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;

my $t = Race::Test->new;
my $dir = $t->dir;
my $root = $t->root;
my $module = $t->module;

system("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=x"
    . " -keyout $dir/privkey.pem -out $dir/fullchain.pem 2>/dev/null") == 0
    or die "openssl failed\n";
$t->write_file('k.key', 'k' x 48 . "\n");
chmod 0600, "$dir/k.key";

sub check {
    my ($name, $conf) = @_;

    my $file = $t->write_file($name, $conf);
    my $env = $t->san_env("$name-t", leaks => 0);
    local @ENV{keys %$env} = values %$env;

    my $out = `/usr/sbin/nginx -t -p $dir/ -c $file -e $dir/$name.err 2>&1`;
    is($? >> 8, 0, "$name passes nginx -t") or diag($out);
}

# conf/nginx.prod.conf

my $prod = $t->read_file("$root/conf/nginx.prod.conf");

# race_status only in a server on an internal address: on the public
# one, behind a load balancer, every client has the balancer's address
# and an allow list of internal networks lets the internet in
my @servers;
{
    my $conf = $prod =~ s/#[^\n]*//gr;
    while ($conf =~ /\bserver\s*\{/g) {
        my ($depth, $start) = (1, pos $conf);
        while ($depth && $conf =~ /([{}])/g) {
            $depth += $1 eq '{' ? 1 : -1;
        }
        push @servers, substr($conf, $start, pos($conf) - $start);
        pos($conf) = $start;
    }
}
my @status = grep { /\brace_status\s*;/ } @servers;
ok(@status, 'prod.conf serves race_status');
for my $server (@status) {
    my @listen = $server =~ /^\s*listen\s+([^\s;]+)/mg;
    ok(@listen && !grep({ !m{^(127\.0\.0\.1|\[::1\]):\d+$} } @listen),
        "race_status only on loopback (@listen)");
}
$prod =~ s{load_module modules/ngx_http_race_module\.so;}{load_module $module;};
$prod =~ s{/etc/ssl/race/}{$dir/}g;
$prod =~ s{/etc/ngx_race/keys/k2024\.key}{$dir/k.key};
$prod =~ s{/etc/ngx_race/common-passwords\.txt}{$root/conf/common-passwords.txt};
$prod =~ s{redis\.internal}{127.0.0.1};
$prod =~ s{/var/log/nginx/}{$dir/}g;
$prod =~ s{/run/nginx\.pid}{$dir/prod.pid};
$prod =~ s{^user www-data;}{}m;
$prod = "user root root;\n$prod" if $> == 0;
check('prod.conf', $prod);

# conf/nginx.conf, next to the services.conf that race-local writes

my $local = $t->read_file("$root/conf/nginx.conf");
$local =~ s{load_module modules/ngx_http_race_module\.so;}{load_module $module;};
$local =~ s{certs/dev\.}{$dir/dev.}g;
system('cp', "$dir/fullchain.pem", "$dir/dev.crt");
system('cp', "$dir/privkey.pem", "$dir/dev.key");
mkdir "$dir/logs";
$t->write_file('services.conf', "race_kafka_brokers 127.0.0.1:9092;\n"
    . "race_redis 127.0.0.1:6379;\n"
    . "race_token_key dev $dir/k.key;\n"
    . "race_auth_common_passwords $root/conf/common-passwords.txt;\n");
check('nginx.conf', $local);

done_testing();
