#!/usr/bin/perl

# Logins under pressure.  Guessing passwords is slowed by nginx's own
# limit_req on the login location, per client address, whatever the
# guess.  Password hashes run in the thread pool, at most
# race_auth_max_hashes at once per worker: the logins over that get 503
# with Retry-After at once, and requests that need no hash are answered
# while hashes run.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use IO::Select;
use IO::Socket::INET;
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use Time::HiRes qw(time);
use Race::Test;
use Race::Util;
use Race::Platform;

my $t = Race::Test->new;

# the Platform's server limits logins; a second one, of the same nginx,
# has no limit_req, for the concurrent logins
my $port2 = $t->port;

my $p = Race::Platform->start($t, accounts => 1, no_tracker => 1,
    http => <<"EOF",
    limit_req_zone \$binary_remote_addr zone=login:1m rate=30r/m;
    limit_req_status 429;
    race_auth_max_hashes 2;

    server {
        listen 127.0.0.1:$port2;

        location /api/ {
            race_api;
        }
    }
EOF
    locations => <<'EOF');
        location = /api/auth/login {
            limit_req zone=login burst=3 nodelay;
            race_api;
        }
EOF

$t->wait_port($port2, 10) or die "nginx did not listen on $port2\n";

my $port = $p->port;
my $json = JSON::PP->new->canonical;

# a client of its own each time, from address $a{from} if given
sub call {
    my ($method, $url, %a) = @_;

    my $ua = HTTP::Tiny->new(timeout => 30,
        $a{from} ? (local_address => $a{from}) : ());

    return (api_call($ua, $method, $url, %a))[0 .. 2];
}

my $password = 'a long pass phrase ' . int(rand(1e9));
my %ann = (email => 'ann@example.org', password => $password,
    name => 'Ann');

my ($st, $d, $res) = call(POST => "http://127.0.0.1:$port/api/auth/signup",
    json => \%ann);
is($st, 201, 'signup: 201') or diag($res->{content});
my $token = $d->{token};


# (a) guessing: limit_req rate=30r/m burst=3 nodelay on the login

my $login = "http://127.0.0.1:$port/api/auth/login";
my @st;

for my $i (1 .. 10) {
    ($st) = call(POST => $login,
        json => { email => $ann{email}, password => "wrong guess $i" });
    push @st, $st;
}

is("@st", join(' ', (401) x 4, (429) x 6),
    'ten quick wrong logins: the first four 401, the rest 429');

($st) = call(POST => $login,
    json => { email => $ann{email}, password => $password });
is($st, 429, 'the right password right after: 429, the limit is per '
    . 'address, not per guess');

($st) = call(POST => $login, from => '127.0.0.2',
    json => { email => $ann{email}, password => $password });
is($st, 200, 'the right password from another address: 200');

($st) = call(GET => "http://127.0.0.1:$port/api/me", token => $token);
is($st, 200, 'the limited address still gets what is not a login');


# (b) race_auth_max_hashes 2: eight logins at once, and meanwhile one
# cheap request after another, on the server without limit_req

sub request {
    my ($method, $path, %a) = @_;

    my $body = exists $a{json} ? $json->encode($a{json}) : '';
    my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n";
    $req .= "Authorization: Bearer $a{token}\r\n" if $a{token};
    $req .= "Content-Type: application/json\r\n"
        . 'Content-Length: ' . length($body) . "\r\n" if length $body;

    return "$req\r\n$body";
}

# a connection with its request written, read as the answer comes
sub send_request {
    my ($req) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port2, Proto => 'tcp', Timeout => 5)
        or die "connect: $!\n";

    my $n = syswrite($s, $req);
    die "write: $!\n" unless defined $n && $n == length $req;

    $s->blocking(0);
    return { sock => $s, buf => '' };
}

# 1 once the whole answer is in ($c->{status}, {headers}, {body})
sub read_some {
    my ($c) = @_;

    my $n = sysread($c->{sock}, my $data, 65536);

    if (!defined $n) {
        return 0 if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
        $n = 0;
    }

    $c->{buf} .= $data if $n;

    my $i = index($c->{buf}, "\r\n\r\n");

    if ($i >= 0) {
        my ($line, @lines) = split /\r\n/, substr($c->{buf}, 0, $i);
        my %h = map { /^([^:]+):\s*(.*?)\s*$/ ? (lc $1 => $2) : () } @lines;
        my $len = $h{'content-length'} || 0;

        if (length($c->{buf}) >= $i + 4 + $len) {
            ($c->{status}) = $line =~ m{^HTTP/1\.1 (\d{3})};
            $c->{headers} = \%h;
            $c->{body} = substr($c->{buf}, $i + 4, $len);
            close $c->{sock};
            return 1;
        }
    }

    if ($n == 0) {
        $c->{status} = 'eof';
        close $c->{sock};
        return 1;
    }

    return 0;
}

my $login_req = request(POST => '/api/auth/login',
    json => { email => $ann{email}, password => $password });
my $me_req = request(GET => '/api/me', token => $token);

my @logins = map { send_request($login_req) } 1 .. 8;
my $me = send_request($me_req);

# what came back, in the order it came: [login, i] or [me, n]
my (@events, @me, $busy_seen);
my %pending = map { $_ => 1 } 0 .. $#logins;
my $end = time + 60;

while (%pending && time < $end) {
    my $sel = IO::Select->new(map { $logins[$_]{sock} } keys %pending);
    $sel->add($me->{sock});

    for my $fh ($sel->can_read($end - time)) {

        if ($fh == $me->{sock}) {
            next unless read_some($me);

            push @me, $me;
            push @events, [ me => $#me ];

            # the next one; one sent after a 503 was seen is marked
            $me = send_request($me_req);
            $me->{after_busy} = $busy_seen;
            next;
        }

        my ($i) = grep { $logins[$_]{sock} == $fh } keys %pending;
        next unless read_some($logins[$i]);

        delete $pending{$i};
        push @events, [ login => $i ];
        $busy_seen = 1 if $logins[$i]{status} eq '503';
    }
}

1 while !read_some($me) && IO::Select->new($me->{sock})->can_read(5);

is(scalar(keys %pending), 0, 'all eight logins are answered');

my @ok = grep { $_->{status} eq '200' } @logins;
my @busy = grep { $_->{status} eq '503' } @logins;

is(@ok + @busy, 8, 'each login: 200 or 503')
    or diag(join ' ', map { $_->{status} } @logins);
cmp_ok(scalar(@ok), '>=', 2, 'at least race_auth_max_hashes of them: 200');
cmp_ok(scalar(@busy), '>=', 1, 'over race_auth_max_hashes: 503');
is(scalar(grep { ($_->{headers}{'retry-after'} || '') eq '1' } @busy),
    scalar(@busy), 'every 503 with Retry-After: 1');
is(scalar(grep { (eval { $json->decode($_->{body}) } || {})
        ->{error}{code} eq 'busy' } @busy),
    scalar(@busy), 'and the error code busy');

is(scalar(grep { $_->{status} ne '200' } @me), 0,
    'every cheap request meanwhile: 200 (' . scalar(@me) . ' of them)');

# Once a 503 came back, race_auth_max_hashes hashes were running: a
# request sent after it and answered before the last login passed was
# answered while a hash ran.

my ($last_ok) = grep { $events[$_][0] eq 'login'
    && $logins[$events[$_][1]]{status} eq '200' } reverse 0 .. $#events;
my ($during) = grep { $events[$_][0] eq 'me'
    && $me[$events[$_][1]]{after_busy}
    && $me[$events[$_][1]]{status} eq '200' } 0 .. $#events;

my $order = 'in order (me* was sent after a 503): ' . join ' ', map {
    $_->[0] eq 'me' ? 'me' . ($me[$_->[1]]{after_busy} ? '*' : '')
    : "login:$logins[$_->[1]]{status}" } @events;

ok(defined $during && defined $last_ok && $during < $last_ok,
    'a request sent after a 503 is answered before the last login')
    ? note($order) : diag($order);

# the hashes are done: a login passes again
($st) = call(POST => "http://127.0.0.1:$port2/api/auth/login",
    json => { email => $ann{email}, password => $password });
is($st, 200, 'after them, a login: 200');

$t->done;
