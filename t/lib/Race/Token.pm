package Race::Token;

# Rider tokens for the tests, signed here with Perl's own HMAC: an
# implementation independent of the module's, so each checks the other.
# It can also make the broken tokens that negative tests need.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);
use Race::Test ();

# a key file of 48 random bytes as base64 text, as race-token writes it
sub key_file {
    my ($t, $name) = @_;

    my $bytes = '';
    open my $r, '<', '/dev/urandom' or die "urandom: $!\n";
    read($r, $bytes, 48) == 48 or die "urandom: short read\n";
    close $r;

    my $secret = MIME::Base64::encode_base64($bytes, '');
    my $file = $t->write_file($name || 'token.key', "$secret\n");
    chmod 0600, $file;

    return ($file, $secret);
}

sub json_str {
    my ($v) = @_;
    return $v if $v =~ /^-?\d+$/;
    $v =~ s/(["\\])/\\$1/g;
    return qq{"$v"};
}

sub json_obj {
    my (@kv) = @_;
    my @parts;
    while (@kv) {
        my ($k, $v) = splice @kv, 0, 2;
        next unless defined $v;
        push @parts, json_str($k) . ':' . (ref $v eq 'SCALAR' ? $$v
            : json_str($v));
    }
    return '{' . join(',', @parts) . '}';
}

# mint(secret => , kid => , race => , rider => , ttl => , and any claim or
# header part to override: alg, iss, aud, exp, nbf, sig => 'raw bytes')
sub mint {
    my (%a) = @_;

    my $now = time;
    my $header = json_obj(alg => exists $a{alg} ? $a{alg} : 'HS256',
        typ => 'JWT', kid => exists $a{kid} ? $a{kid} : 'k1');
    my $payload = $a{payload} || json_obj(
        iss => exists $a{iss} ? $a{iss} : 'ngx_race',
        aud => exists $a{aud} ? $a{aud} : 'ride',
        sub => $a{rider}, race => $a{race},
        iat => $now,
        exp => exists $a{exp} ? $a{exp} : $now + ($a{ttl} || 3600),
        nbf => $a{nbf},
        jti => exists $a{jti} ? $a{jti} : sprintf('t%08x%08x',
            int(rand(2**32)), int(rand(2**32))));

    my $input = encode_base64url($header) . '.' . encode_base64url($payload);
    my $sig = exists $a{sig} ? $a{sig} : hmac_sha256($input, $a{secret});

    my $token = $input . '.' . encode_base64url($sig);
    Race::Test::secret($token);
    return $token;
}

1;
