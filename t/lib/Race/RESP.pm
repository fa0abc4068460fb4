package Race::RESP;

# A small Redis client for the tests: RESP over a socket of our own,
# every read bounded by a deadline, for commands and for subscriptions.
#
#   my $c = resp_conn($port);  resp_send($c, 'SUBSCRIBE', $ch);
#   my $reply = resp_read($c, time + 5);    # scalar, array ref or undef
#   my $v = resp_command($port, 'GET', 'k'); # one command, its reply
#   my @r = resp_pipeline($port, [...], [...]); # sent in one write

use strict;
use warnings;

use Exporter qw(import);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

our @EXPORT = qw(resp_conn resp_fill resp_line resp_read resp_send
    resp_command resp_pipeline);
our @EXPORT_OK = qw(resp_encode);

sub resp_conn {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $port, Proto => 'tcp', Timeout => 2)
        or die "redis: $!\n";
    return { s => $s, buf => '', sel => IO::Select->new($s) };
}

sub resp_fill {
    my ($c, $end) = @_;
    my $left = $end - time;
    return 0 if $left <= 0 || !$c->{sel}->can_read($left);
    my $n = sysread($c->{s}, $c->{buf}, 65536, length $c->{buf});
    return $n ? 1 : 0;
}

sub resp_line {
    my ($c, $end) = @_;
    while (index($c->{buf}, "\r\n") < 0) {
        resp_fill($c, $end) or return undef;
    }
    my $i = index($c->{buf}, "\r\n");
    my $line = substr($c->{buf}, 0, $i);
    substr($c->{buf}, 0, $i + 2, '');
    return $line;
}

# a reply: a scalar, an array ref, undef for nil; dies on a timeout
sub resp_read {
    my ($c, $end) = @_;

    my $line = resp_line($c, $end) // die "redis: no reply\n";
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return $rest if $type eq '+' || $type eq ':';
    return "ERR:$rest" if $type eq '-';

    if ($type eq '$') {
        return undef if $rest < 0;
        while (length $c->{buf} < $rest + 2) {
            resp_fill($c, $end) or die "redis: short bulk\n";
        }
        my $v = substr($c->{buf}, 0, $rest);
        substr($c->{buf}, 0, $rest + 2, '');
        return $v;
    }

    if ($type eq '*') {
        return undef if $rest < 0;
        return [map { resp_read($c, $end) } 1 .. $rest];
    }

    die "redis: bad reply \"$line\"\n";
}

# one command as RESP puts it on the wire: an array of bulk strings
sub resp_encode {
    my (@args) = @_;
    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;
    return $req;
}

sub resp_send {
    my ($c, @args) = @_;
    my $req = resp_encode(@args);
    syswrite($c->{s}, $req) == length $req or die "redis: write\n";
}

sub resp_command {
    my ($port, @args) = @_;
    my $c = resp_conn($port);
    resp_send($c, @args);
    my $r = resp_read($c, time + 5);
    close $c->{s};
    return $r;
}

# commands written at once, so that they reach Redis together (ticks
# published in one burst), and their replies in order
sub resp_pipeline {
    my ($port, @cmds) = @_;
    my $c = resp_conn($port);
    print { $c->{s} } join('', map { resp_encode(@$_) } @cmds)
        or die "redis: write\n";
    my $end = time + 10;
    my @r = map { resp_read($c, $end) } @cmds;
    close $c->{s};
    return @r;
}

1;
