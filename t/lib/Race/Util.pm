package Race::Util;

# Small helpers the test files share: bounded waits, the time in
# milliseconds, reading a WebSocket until a frame matches, and one call
# to the JSON API.  Each test used to carry its own copy of these.

use strict;
use warnings;

use Exporter qw(import);
use JSON::PP;
use Time::HiRes qw(sleep time);

our @EXPORT = qw(wait_for now_ms read_until error_code api_call api_signup
    api_login);
our @EXPORT_OK = qw(quoted);

my $json = JSON::PP->new->canonical;

# polls $cond every $step seconds (0.2) until it is true or $secs (60)
# have passed; the last answer of $cond is the result
sub wait_for {
    my ($cond, $secs, $step) = @_;
    my $end = time + ($secs || 60);
    while (time < $end) {
        return 1 if $cond->();
        sleep($step || 0.2);
    }
    return $cond->();
}

sub now_ms { int(time() * 1000) }

# the payload of the first frame matching $re within $secs, or undef;
# every payload read on the way is pushed onto @$seen if given
sub read_until {
    my ($ws, $re, $secs, $seen) = @_;
    my $end = time + $secs;
    while (time < $end) {
        my $f = $ws->read_frame($end - time) or last;
        last unless ref $f;
        push @$seen, $f->{payload} if $seen;
        return $f->{payload} if $f->{payload} =~ $re;
    }
    return undef;
}

# the "code" of an API error body, or ''
sub error_code {
    my ($data) = @_;
    return ref $data eq 'HASH' && ref $data->{error} eq 'HASH'
        ? $data->{error}{code} : '';
}

# One request to the JSON API with HTTP::Tiny $ua.  Options: token (a
# bearer token), cookie, headers (a hash), json (a body to encode, sent
# as application/json), raw (a body as is).  Returns the status, the
# decoded body (undef if it is not JSON), the response and the seconds
# the request took.
sub api_call {
    my ($ua, $method, $url, %a) = @_;

    my %h = %{$a{headers} || {}};
    $h{Authorization} = "Bearer $a{token}" if $a{token};
    $h{Cookie} = $a{cookie} if $a{cookie};

    my $body = $a{raw};
    if (exists $a{json}) {
        $body = $json->encode($a{json});
        $h{'Content-Type'} ||= 'application/json';
    }

    my $t0 = time;
    my $res = $ua->request($method, $url,
        { headers => \%h, defined $body ? (content => $body) : () });
    my $elapsed = time - $t0;

    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res, $elapsed);
}

# a new user through the API, with call a test's own API call:
# { email, password, name, id, token }; dies if the signup fails
my $users = 0;

sub api_signup {
    my ($call, $name) = @_;
    my %u = (email => lc($name) . '.' . ++$users . '@example.org',
        password => "a long pass phrase for $name " . int(rand(1e9)),
        name => $name);
    my ($st, $d, $res) = $call->(POST => '/api/auth/signup', json => \%u);
    die "signup of $name: $st $res->{content}\n" unless $st == 201;
    return { %u, id => $d->{user}{id}, token => $d->{token} };
}

# a new token for a user api_signup() made; dies if the login fails
sub api_login {
    my ($call, $u) = @_;
    my ($st, $d, $res) = $call->(POST => '/api/auth/login',
        json => { email => $u->{email}, password => $u->{password} });
    die "login of $u->{email}: $st $res->{content}\n" unless $st == 200;
    return $d->{token};
}

# a pattern matching "$s", quotes included, as nginx quotes in messages
sub quoted { my ($s) = @_; return qr/\Q"$s"\E/ }

1;
