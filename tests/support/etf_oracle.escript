%% -*- erlang -*-
%% Term oracle for the ETF tests: real erlang:term_to_binary/2 and
%% binary_to_term/1, driven line by line over stdin/stdout.
%%   E <expr>      evaluate {Term, Opts}; store Term; print "<Index> <hex of term_to_binary(Term, Opts)>"
%%   C <Index> <hex>  print "true" when binary_to_term(hex) =:= stored term, else "false ..."
%%   D <hex>       print "ok <hex of term_to_binary(binary_to_term(hex))>" or "error"
main(_) ->
    io:setopts(standard_io, [binary]),
    loop(#{}).

loop(Terms) ->
    case io:get_line(standard_io, "") of
        eof -> ok;
        Line -> loop(handle(string:trim(Line, trailing, "\r\n"), Terms))
    end.

handle(<<"E ", Expr/binary>>, Terms) ->
    {ok, Tokens, _} = erl_scan:string(binary_to_list(Expr) ++ "."),
    {ok, Exprs} = erl_parse:parse_exprs(Tokens),
    {value, {Term, Opts}, _} = erl_eval:exprs(Exprs, []),
    Index = maps:size(Terms),
    reply("~b ~s", [Index, hex(term_to_binary(Term, Opts))]),
    Terms#{Index => Term};
handle(<<"C ", Rest/binary>>, Terms) ->
    [Index, Hex] = binary:split(Rest, <<" ">>),
    Stored = maps:get(binary_to_integer(Index), Terms),
    case catch binary_to_term(binary:decode_hex(Hex)) of
        Stored -> reply("true", []);
        Other -> reply("false ~0p", [Other])
    end,
    Terms;
handle(<<"D ", Hex/binary>>, Terms) ->
    case catch binary_to_term(binary:decode_hex(Hex)) of
        {'EXIT', _} -> reply("error", []);
        Term -> reply("ok ~s", [hex(term_to_binary(Term))])
    end,
    Terms.

hex(Bin) -> binary:encode_hex(Bin).

reply(Format, Args) ->
    io:format(Format ++ "~n", Args).
