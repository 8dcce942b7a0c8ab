"""The theme keywords: one table, one entry per language and theme (the only declaration of them).

Themes are **complaints** (what went wrong), plus ``positive`` (praise with no complaint); a comment
that matches nothing is ``other``. A comment can have several themes.

==================== =========================================================================
theme                what the buyer says
==================== =========================================================================
``not_as_described`` differs from the listing, photo or description; fake, counterfeit, used
``damaged``          arrived physically damaged: broken, dented, scratched, leaking, badly packed
``late``             arrived late, or not (yet) received; slow delivery
``wrong_item``       a different item than ordered, or items missing from the order
``quality``          defective, does not work, poor quality, broke or wore out in use
``size_fit``         too small, too large, does not fit, size or measurements
``service``          seller's service: no answer, refund/return/exchange trouble, cancelled
                     order or out of stock, no invoice
``positive``         praise: recommended, on time, as described, satisfied
==================== =========================================================================

Pattern syntax (one string per pattern; accents and case do not matter, they are folded away):

* words separated by spaces match whole words in sequence: ``"nao recebi"`` matches "Não recebi";
* ``*`` at the end of a word matches any ending (inflection): ``"atras*"`` matches atraso, atrasou;
* ``*`` at the start of a pattern also matches inside a word (German compounds):
  ``"*verzoger*"`` matches "Lieferverzögerung";
* Chinese and Japanese patterns are segmented with the same segmenter as the comments (jieba; MeCab
  with IPAdic, by base form), and Chinese patterns are added to jieba's dictionary so they stay whole.

``None`` is the theme of **neutralising** phrases: a longer phrase wins over the shorter ones it
contains (leftmost-longest matching), so ``"sem atraso"`` ("no delay") hides ``"atras*"`` and
``"nao recomendo"`` hides ``"recomend*"``. This is how negations are declared.
"""

from __future__ import annotations

#: The themes, in display order; ``other`` is given to a text that matches no theme.
THEMES: tuple[str, ...] = (
    "not_as_described",
    "damaged",
    "late",
    "wrong_item",
    "quality",
    "size_fit",
    "service",
    "positive",
)
OTHER = "other"
#: The complaint themes (everything but ``positive``).
COMPLAINTS: tuple[str, ...] = tuple(t for t in THEMES if t != "positive")
#: The languages with a keyword table (ISO 639-1).
LANGUAGES: tuple[str, ...] = ("en", "zh", "de", "fr", "ja", "es", "pt")

NEUTRAL = None

# fmt: off
KEYWORDS: dict[str, dict[str | None, tuple[str, ...]]] = {
    "pt": {
        "late": (
            "atras*", "demor*", "não recebi", "não recebemos", "ainda não recebi", "não recebido",
            "não chegou", "não chegaram", "ainda não chegou", "nunca chegou", "nunca recebi",
            "não foi entregue", "não foram entregue*", "não entreg*", "não foi enviado", "não enviaram",
            "não foi postado", "fora do prazo", "passou do prazo", "prazo excedido", "prazo expirado",
            "prazo já", "já passou", "prazo de entrega enorme", "prazo muito longo", "prazo longo",
            "esperando o produto", "esperando a entrega", "esperando chegar", "aguardando o produto",
            "aguardando a entrega", "aguardando chegar", "a espera do produto", "espera do produto",
            "nada de chegar", "nada da entrega", "nada do produto", "até hoje não", "até agora não",
            "até o momento não", "até agora nada", "extraviad*", "cadê meu", "cadê o", "sem previsão",
            "muita espera", "longa espera", "tanta espera", "deveria ter chegado", "já deveria", "não enviou",
            "não enviar", "mais agilidade", "aguardo a entrega", "aguardo o produto", "no aguardo do produto",
            "quero meu produto", "parado há", "ainda espero", "ainda aguardo",
        ),
        "damaged": (
            "danific*", "quebrad*", "veio quebrado", "chegou quebrado", "avari*", "amassad*", "trincad*",
            "rachad*", "riscad*", "rasgad*", "arranhad*", "estragad*", "mal embalad*", "embalagem violada",
            "embalagem aberta", "embalagem rasgada", "veio aberto", "veio aberta", "caixa aberta",
            "caixa amassada", "vazad*", "vazando", "furad*", "lacre rompido", "sem lacre", "lascad*",
            "entortad*", "torto", "torta", "deformad*", "molhad*", "úmid*", "ferrugem", "sem proteção",
        ),
        "wrong_item": (
            "produto errado", "item errado", "modelo errado", "cor errada", "tamanho errado", "veio errado",
            "pedido errado", "enviaram errado", "mandaram errado", "enviado errado", "entregue errado",
            "enviaram outro", "mandaram outro", "entregaram outro", "veio outro", "recebi outro",
            "produto trocado", "pedido trocado", "trocaram o produto", "diferente do pedido",
            "diferente do que comprei", "diferente do que pedi", "diferente do comprado",
            "não era o que pedi", "não é o que pedi", "não era o que comprei", "não é o que comprei",
            "produto diferente do que", "outro produto", "outra cor", "outro modelo", "outra marca", "faltou",
            "faltaram", "faltando", "falta um", "falta uma", "falta o", "falta a", "falta os", "falta as",
            "falta 1", "incomplet*", "só recebi um", "só recebi uma", "só recebi 1", "só recebi o",
            "só recebi a", "só recebi as", "só recebi os", "recebi apenas", "recebi somente", "recebi só",
            "apenas recebi", "só chegou", "só chegaram", "chegou apenas", "chegou somente", "chegaram apenas",
            "chegaram somente", "só veio", "veio apenas", "veio somente", "só me enviaram",
            "me enviaram apenas", "enviaram apenas", "enviaram somente", "metade do pedido",
            "entrega parcial", "parcialmente", "só foram entregue*", "não veio o", "não veio a",
            "não veio os", "não veio as", "veio sem", "não recebi o outro", "não recebi a outra",
            "ainda não recebi o outro", "ainda não recebi a outra", "falta receber", "entregaram só",
            "entregaram apenas", "entregaram somente", "entregaram 1", "entregaram um", "entregaram uma",
            "não recebi toda", "não recebi todos", "um dos produtos", "um dos itens", "não foi completa",
            "diferente da que pedi", "sem manual", "sem o manual", "não veio manual",
        ),
        "not_as_described": (
            "diferente da foto", "diferente das fotos", "diferente da imagem", "diferente do anúncio",
            "diferente da descrição", "diferente do anunciado", "diferente do descrito", "diferente do site",
            "diferente do que mostra", "diferente do que está", "diferente do que aparece",
            "diferente do mostrado", "diferente do real", "não é igual", "não era igual", "não é nada igual",
            "não é o mesmo", "não corresponde", "não correspondem", "não condiz", "não confere", "nada a ver",
            "não parece com", "não se parece", "não tem nada a ver", "totalmente diferente",
            "completamente diferente", "bem diferente", "muito diferente", "produto diferente",
            "cor diferente", "falsificad*", "falso", "falsa", "pirata*", "não é original", "não original",
            "não são originais", "réplica", "imitação", "parece usado", "parece usada", "aparência de usado",
            "cara de usado", "produto usado", "já usado", "já foi usado", "propaganda enganosa", "enganos*",
            "enganad*", "descrição errada", "informação errada", "na descrição", "na foto parece",
            "não é como", "não era como", "diferente do esperado", "veio diferente", "foto diferente",
            "foto é diferente", "foto está diferente", "usado", "usada", "recondicionad*",
        ),
        "quality": (
            "qualidade ruim", "má qualidade", "baixa qualidade", "péssima qualidade", "qualidade péssima",
            "qualidade inferior", "qualidade muito ruim", "sem qualidade", "qualidade duvidosa",
            "qualidade deixa", "qualidade baixa", "qualidade melhor", "não gostei da qualidade",
            "qualidade não", "pouca qualidade", "defeit*", "com defeito", "não funciona", "não funcionou",
            "não funcionam", "não está funcionando", "parou de funcionar", "deixou de funcionar",
            "para de funcionar", "não liga", "não carrega", "não encaixa*", "frágil", "frágeis", "muito fino",
            "muito fina", "material fraco", "muito fraco", "muito fraca", "vagabund*", "porcaria",
            "mal acabad*", "acabamento ruim", "péssimo acabamento", "acabamento péssimo",
            "acabamentos grosseiros", "desfi*", "descasc*", "desbot*", "soltou", "soltando", "quebrou",
            "enferruj*", "não presta", "joguei no lixo", "um lixo", "deixou a desejar", "deixa a desejar",
            "deixando a desejar", "inferior*", "mais resistente", "pouco resistente", "não é resistente",
            "acabamento", "barulhent*", "oscila*", "esquenta*", "aquece demais", "superaquec*",
            "aquém do esperado", "fraquinho", "fraquinha", "péssimo produto", "produto péssimo",
            "produto ruim", "não vale", "mal feito", "não aguenta",
        ),
        "size_fit": (
            "tamanho pequeno", "tamanho grande", "tamanho menor", "tamanho maior", "tamanho não",
            "tamanhos não", "tamanho diferente", "o tamanho", "muito pequen*", "bem pequen*", "é pequen*",
            "pequeno demais", "pequena demais", "muito grand*", "grande demais", "não serviu", "não serve",
            "não coube", "não cabe", "apertad*", "folgad*", "numeração", "número menor", "número maior",
            "veste pequeno", "veste grande", "medida*", "menor do que", "maior do que", "menor que",
            "maior que", "muito curto", "muito curta", "muito comprido", "muito comprida", "cm a menos",
            "cm a mais", "mais alto", "mais baixo", "mais largo", "mais estreito", "estreito", "pequeno para",
            "pequena para",
        ),
        "service": (
            "péssimo atendimento", "atendimento péssimo", "atendimento ruim", "mau atendimento",
            "péssimos atendimentos", "sem resposta", "nenhuma resposta", "não respond*", "nunca respond*",
            "não tive resposta", "não obtive resposta", "não recebi resposta", "não recebi nenhuma resposta",
            "não obtive retorno", "nenhum retorno", "sem retorno", "não tive retorno", "não recebi retorno",
            "aguardo retorno", "aguardando resposta", "aguardando retorno", "aguardo resposta",
            "nenhuma satisfação", "não me deram satisfação", "não deram satisfação", "nenhuma informação",
            "nenhuma explicação", "sem explicação", "sem informação", "sem satisfação", "falta de informação",
            "falta de satisfação", "falta de respeito", "falta de compromisso", "descaso",
            "não consigo contato", "não consigo entrar em contato", "não consigo falar", "sem contato",
            "nenhum contato", "não entrou em contato", "não entraram em contato", "não consegui contato",
            "reembolso", "estorno", "dinheiro de volta", "não quiseram trocar", "não aceitaram a troca",
            "dificuldade em trocar", "dificuldade para trocar", "não é possível a troca", "troca não",
            "devolução não", "não fui atendid*", "ninguém responde", "ninguém respondeu", "deram satisfação",
            "nem uma satisfação", "tentando entrar em contato", "tentei entrar em contato",
            "tentando contato", "tentei contato", "várias mensagens", "um retorno",
            "empresa deixando a desejar", "empresa deixou a desejar", "empresa está deixando a desejar",
            "loja deixou a desejar", "loja deixa a desejar", "nota fiscal", "não recebi a nota", "cancel*",
            "sem estoque", "não tinha em estoque", "não tem estoque", "não tinham", "falta de estoque",
            "fora de estoque", "não tem disponibilidade", "péssimo vendedor", "péssima loja", "loja péssima",
            "péssimo serviço", "péssimos parceiros", "parceiros", "parceira", "abri reclamação", "protocolo",
            "não resolveram", "não resolve*", "ninguém resolve", "resolver o problema", "solução",
        ),
        "positive": (
            "recomend*", "indico", "ótimo", "ótima", "excelente", "perfeit*", "adorei", "amei", "gostei",
            "muito bom", "muito boa", "bom produto", "boa qualidade", "ótima qualidade", "satisfeit*",
            "parabéns", "bem embalad*", "entrega rápida", "chegou rápido", "rapidez", "rápido",
            "antes do prazo", "dentro do prazo", "no prazo", "conforme anunci*", "conforme descri*",
            "conforme o anunci*", "conforme o descri*", "conforme o esperado", "conforme esperado",
            "tudo certo", "tudo ok", "tudo certinho", "nota 10", "lindo", "linda", "maravilh*", "top", "show",
            "obrigad*", "em perfeito estado", "corretamente", "muito bem", "confiável", "prazo certo", "bom",
            "boa", "legal", "rápida", "aprovad*", "tempo certo", "mais rápida do que", "mais rápido do que",
        ),
        NEUTRAL: (
            "sem atraso*", "nenhum atraso", "não atrasou", "não demorou", "não recomendo", "não recomendaria",
            "não indico", "não gostei", "não estou satisfeit*", "não fiquei satisfeit*", "insatisfeit*",
            "pequeno problema", "pequena falha", "pequeno detalhe", "tamanho ideal", "tamanho certo",
            "tamanho perfeito", "bom tamanho", "tamanho normal", "não é um ótimo", "não tive problema*",
            "sem problema*", "nenhum problema", "não é ruim", "nada de ruim", "ruim de", "mais rápido",
            "sempre recebi", "nunca tive problema", "não recomendad*", "não é confiável", "não é bom",
            "não são boas", "não são bons", "não é boa", "nada bom", "bom dia", "boa tarde", "boa noite",
            "mais rápido possível", "seja rápid*", "ótimo acabamento", "bom acabamento",
            "excelente acabamento", "acabamento perfeito", "pequena divergência",
        ),
    },
    "en": {
        "late": (
            "late", "delay*", "still waiting", "still not received", "still have not received",
            "still haven't received", "never arrived", "never received", "never came", "not arrived",
            "hasn't arrived", "has not arrived", "didn't arrive", "did not arrive", "not delivered",
            "never delivered", "wasn't delivered", "was not delivered", "took forever", "took too long",
            "took weeks", "slow delivery", "slow shipping", "lost in transit", "lost in the mail",
            "where is my", "haven't received", "have not received", "not received", "didn't receive",
            "did not receive", "arrived after", "missed estimated delivery",
        ),
        "damaged": (
            "damag*", "broken", "arrived broken", "cracked", "shattered", "dented", "scratched", "scratches",
            "torn", "crushed", "leak*", "smashed", "box was open*", "package was open*",
            "packaging was open*", "poorly packed", "poorly packaged", "badly packed", "badly packaged",
            "seal broken", "seal was broken", "bent",
        ),
        "wrong_item": (
            "wrong item", "wrong product", "wrong colo*", "wrong model", "wrong size", "wrong one",
            "wrong version", "sent the wrong", "received the wrong", "got the wrong", "different item",
            "different product", "not what i ordered", "not the item i ordered", "missing", "incomplete",
            "only received one", "only got one", "only one of", "switcheroo", "item was sent",
        ),
        "not_as_described": (
            "not as described", "not as pictured", "not as advertised", "not as shown",
            "does not match the description", "doesn't match the description", "doesn't match the picture",
            "does not match the picture", "doesn't look like the picture", "doesn't look like the photo",
            "different from the picture", "different from the photo", "different from the description",
            "different than pictured", "different than described", "nothing like the picture",
            "nothing like the photo", "misleading", "fake", "counterfeit", "knock off", "knockoff",
            "not genuine", "not original", "not authentic", "used item", "looks used", "was used",
            "misrepresent*", "bad desc*", "inaccurate website description",
        ),
        "quality": (
            "poor quality", "bad quality", "low quality", "cheap quality", "terrible quality",
            "horrible quality", "quality is poor", "quality is bad", "quality is terrible", "cheaply made",
            "flims*", "defect*", "faulty", "doesn't work", "does not work", "didn't work", "did not work",
            "stopped working", "not working", "won't turn on", "broke", "fell apart", "falls apart",
            "malfunction*", "junk", "garbage", "peeling", "peeled", "fraying", "frayed", "rusty", "rusted",
            "dead on arrival", "quality unacceptable", "poorly made", "badly made",
        ),
        "size_fit": (
            "too small", "too big", "too large", "too tight", "too loose", "too short", "too long",
            "runs small", "runs large", "runs big", "sizing", "doesn't fit", "does not fit", "didn't fit",
            "did not fit", "smaller than", "larger than", "bigger than", "size is off", "apparel too small",
            "apparel too large", "wrong measurements",
        ),
        "service": (
            "bad customer service", "poor customer service", "terrible customer service",
            "no customer service", "horrible customer service", "no response", "no reply", "never responded",
            "never replied", "didn't respond", "did not respond", "not respond*", "doesn't respond",
            "won't respond", "ignored", "unhelpful", "rude", "refund*", "cancel*", "out of stock",
            "couldn't reach", "could not reach", "no answer", "no one answer*", "nobody answer*", "invoice",
            "won't replace", "refused to",
        ),
        "positive": (
            "great", "excellent", "perfect*", "love it", "loved it", "love this", "recommend*", "good",
            "fast shipping", "fast delivery", "arrived early", "arrived quickly", "on time", "as described",
            "as pictured", "as advertised", "happy", "satisfied", "thank*", "works great", "well packaged",
            "well packed", "awesome", "amazing", "five stars",
        ),
        NEUTRAL: (
            "not late", "no delay*", "without delay", "not recommend", "don't recommend", "do not recommend",
            "wouldn't recommend", "would not recommend", "not good", "not happy", "not satisfied",
            "dissatisfied", "unhappy", "not great", "not perfect", "no good", "not broken", "nothing missing",
            "no damage", "not damaged", "good quality", "great quality", "excellent quality",
            "refund was quick", "latest",
        ),
    },
    "es": {
        "late": (
            "retras*", "tardo", "tardaron", "tarde", "tarda mucho", "demasiado tarde", "llego tarde",
            "demor*", "no llego", "no ha llegado", "nunca llego", "todavia no", "aun no llega",
            "aun no ha llegado", "no recibi", "no he recibido", "nunca recibi", "sin recibir",
            "no fue entregado", "no me lo entregaron", "no entregado", "fuera de plazo", "fuera del plazo",
            "sigo esperando", "extravi*", "paquete perdido",
        ),
        "damaged": (
            "danad*", "roto", "rota", "rotos", "rotas", "quebrad*", "golpead*", "abollad*", "rayad*",
            "rasgad*", "agrietad*", "mal embalad*", "caja abierta", "paquete abierto", "derramad*",
            "astillad*",
        ),
        "wrong_item": (
            "producto equivocado", "articulo equivocado", "equivocad*", "incorrect*", "otro producto",
            "otro modelo", "otro color", "no es lo que pedi", "no era lo que pedi", "no es lo que compre",
            "falta*", "faltaba*", "faltan", "incomplet*", "solo recibi uno", "solo recibi una",
            "solo llego uno", "solo llego una", "solo me llego", "me enviaron otro",
        ),
        "not_as_described": (
            "no es como se describe", "no coincide", "no corresponde", "diferente a la foto",
            "diferente de la foto", "diferente a la descripcion", "distinto a la foto", "no se parece",
            "nada que ver", "no es como en la foto", "falso", "falsa", "falsificad*", "imitacion",
            "no es original", "enganos*", "publicidad enganosa", "usado", "parece usado",
        ),
        "quality": (
            "mala calidad", "baja calidad", "calidad mala", "pesima calidad", "calidad pesima",
            "poca calidad", "falta de calidad", "defectuos*", "defecto*", "no funciona", "dejo de funcionar",
            "no sirve para nada", "se rompio", "fragil", "endeble", "se despego", "se descos*", "basura",
            "mal hecho", "mal acabado",
        ),
        "size_fit": (
            "talla", "muy pequen*", "muy grande", "demasiado pequen*", "demasiado grande", "no me queda",
            "no queda", "queda pequen*", "queda grande", "apretad*", "holgad*", "mas pequen*", "mas grande",
            "medida*", "talla equivocada",
        ),
        "service": (
            "atencion al cliente", "servicio al cliente", "mala atencion", "pesima atencion", "mal servicio",
            "no responde*", "no contestan", "sin respuesta", "ninguna respuesta", "falta de respuesta",
            "no recibi respuesta", "no he recibido respuesta", "reembolso", "devolucion del dinero",
            "cancel*", "sin stock", "no hay stock", "factura", "el vendedor no",
        ),
        "positive": (
            "excelente", "perfect*", "recomiendo", "recomendable", "muy bueno", "muy buena", "genial",
            "encantad*", "me encanta*", "satisfech*", "rapido", "rapida", "a tiempo", "gracias",
            "bien embalado", "como se describe", "buena calidad", "excelente calidad", "antes de lo previsto",
        ),
        NEUTRAL: (
            "no lo recomiendo", "no recomiendo", "insatisfech*", "no estoy satisfech*", "sin retraso*",
            "buenas tardes", "por la tarde", "talla perfecta", "talla correcta", "buena talla",
            "no es rapido",
        ),
    },
    "fr": {
        "late": (
            "retard*", "toujours pas recu", "jamais recu", "pas recu", "non recu", "jamais arrive",
            "pas arrive", "pas encore arrive", "toujours en attente", "attends toujours", "pas livre",
            "jamais livre", "non livre", "delai trop long", "delais trop long*", "trop de temps",
            "delai depasse", "colis perdu", "perdu",
        ),
        "damaged": (
            "endommag*", "abim*", "casse", "cassee", "casses", "cassees", "brise*", "fissur*", "raye*",
            "dechir*", "ecrase*", "cabosse*", "mal emball*", "colis ouvert", "emballage ouvert",
            "emballage abime", "fuite", "fuit",
        ),
        "wrong_item": (
            "mauvais article", "mauvais produit", "mauvaise couleur", "mauvaise taille", "mauvais modele",
            "pas le bon", "pas la bonne", "erreur de commande", "pas ce que j ai commande", "autre produit",
            "autre article", "manquant*", "manque", "il manque", "incomplet*", "recu qu un", "recu qu une",
        ),
        "not_as_described": (
            "non conforme", "pas conforme", "ne correspond pas", "correspond pas", "pas comme sur la photo",
            "rien a voir", "different de la photo", "differente de la photo", "different de la description",
            "photo trompeuse", "trompeu*", "mensonger*", "contrefa*", "faux", "fausse", "pas original",
            "pas d origine", "deja utilise", "deja servi",
        ),
        "quality": (
            "mauvaise qualite", "qualite mediocre", "qualite mauvaise", "qualite decevante", "pietre qualite",
            "qualite bof", "defectu*", "defaut*", "ne fonctionne pas", "fonctionne pas", "marche pas",
            "ne marche plus", "ne fonctionne plus", "cesse de fonctionner", "en panne", "fragile", "camelote",
            "s est casse", "se decoll*", "mal fini*", "de la merde",
        ),
        "size_fit": (
            "taille petit", "taille grand", "trop petit*", "trop grand*", "trop serre*", "trop large*",
            "trop court*", "trop long", "trop longue", "ne me va pas", "pointure", "plus petit*",
            "plus grand*", "taille*",
        ),
        "service": (
            "service client nul", "service client inexistant", "service client deplorable",
            "service client decevant", "mauvais service", "aucune reponse", "pas de reponse", "sans reponse",
            "ne repond*", "repond pas", "jamais repondu", "injoignable", "rembours*", "annul*",
            "rupture de stock", "facture", "vendeur ne", "aucun retour", "aucune nouvelle",
        ),
        "positive": (
            "excellent*", "parfait*", "recommande*", "tres bien", "tres bon", "tres bonne", "super",
            "satisfait*", "rapide", "merci", "genial", "conforme", "bien emballe*", "nickel", "top",
            "dans les delais", "a temps", "en avance",
        ),
        NEUTRAL: (
            "ne recommande", "ne le recommande", "pas recommande*", "pas satisfait*", "insatisfait*",
            "pas de retard", "sans retard", "taille parfaite", "bonne taille", "pas rapide", "pas tres bien",
            "taille normal*", "taille bien", "correspond bien",
        ),
    },
    "de": {
        "late": (
            "verspat*", "*verzoger*", "zu spat", "spat", "noch nicht angekommen", "nicht angekommen",
            "nie angekommen", "noch nicht erhalten", "nicht erhalten", "nie erhalten", "nicht geliefert",
            "nie geliefert", "warte noch", "warte immer noch", "immer noch nicht", "dauerte zu lange",
            "dauert zu lange", "zu lange", "ewig", "paket verloren", "verloren gegangen", "nicht zugestellt",
            "lange lieferzeit", "lieferzeit zu lang",
        ),
        "damaged": (
            "beschadig*", "*beschadigt*", "kaputt*", "zerbroch*", "gebroch*", "zerkratzt", "verkratzt",
            "kratzer*", "*kratzer*", "delle*", "eingedruckt", "zerdruckt", "gerissen", "ausgelaufen",
            "undicht", "schlecht verpackt", "verpackung beschadigt", "*transportschad*", "gesplittert",
        ),
        "wrong_item": (
            "falscher artikel", "falschen artikel", "falsches produkt", "falsche farbe", "falsche grosse",
            "falsch geliefert", "falsche ware", "anderes produkt", "anderen artikel", "nicht bestellt",
            "nicht das bestellte", "fehlt", "fehlen", "fehlend*", "unvollstandig", "nur einen", "nur eine",
        ),
        "not_as_described": (
            "nicht wie beschrieben", "nicht wie abgebildet", "entspricht nicht", "nicht der beschreibung",
            "anders als auf dem bild", "anders als beschrieben", "anders als abgebildet", "sieht anders aus",
            "*falschung*", "fake", "nicht original", "plagiat", "gebraucht", "irrefuhrend",
            "nicht wie auf dem foto", "nicht wie auf dem bild",
        ),
        "quality": (
            "schlechte qualitat", "minderwertig*", "billig*", "qualitat ist schlecht", "qualitativ schlecht",
            "schlecht verarbeitet", "mangelhaft*", "defekt*", "funktioniert nicht", "funktioniert nicht mehr",
            "geht nicht", "ging kaputt", "schrott", "mull", "instabil", "wackelig", "lost sich", "fusselt",
            "verarbeitung ist schlecht",
        ),
        "size_fit": (
            "zu klein", "zu gross", "zu eng", "zu weit", "zu kurz", "zu lang", "passt nicht",
            "passt leider nicht", "fallt klein aus", "fallt gross aus", "grosse", "kleiner als",
            "grosser als", "masse",
        ),
        "service": (
            "schlechter kundenservice", "kein kundenservice", "kundenservice reagiert nicht",
            "kundendienst reagiert nicht", "keine antwort", "keine ruckmeldung", "nicht erreichbar",
            "reagiert nicht", "antwortet nicht", "*erstattung*", "geld zuruck", "storn*", "nicht vorratig",
            "rechnung", "unfreundlich",
        ),
        "positive": (
            "super", "toll", "perfekt", "empfehlenswert", "empfehle*", "sehr gut", "schnelle lieferung",
            "schnell geliefert", "schnell", "punktlich", "zufrieden", "danke", "wie beschrieben",
            "gerne wieder", "top", "prima", "einwandfrei",
        ),
        NEUTRAL: (
            "nicht empfehlen", "nicht zu empfehlen", "nicht empfehlenswert", "nicht zufrieden", "nicht gut",
            "nicht schnell", "nicht verspatet", "ohne verzogerung", "grosse passt", "passt gut",
            "passt perfekt", "nicht billig", "nicht kaputt",
        ),
    },
    "zh": {
        "late": (
            "延迟", "延误", "太慢", "很慢", "物流慢", "发货慢", "送货慢", "晚到", "迟到", "迟迟", "没收到",
            "没有收到", "未收到", "还没到", "还没收到", "一直没到", "没到货", "没送到", "未送达", "丢件",
            "丢失", "超时", "物流太慢", "快递太慢", "等了很久", "等了好久", "太久",
        ),
        "damaged": (
            "破损", "损坏", "碎了", "压坏", "摔坏", "划痕", "刮花", "变形", "凹陷", "漏了", "漏液", "包装破",
            "包装破损", "包装烂", "裂了", "裂开", "开裂", "磕碰", "压扁",
        ),
        "wrong_item": (
            "发错", "发错货", "错发", "不是我买的", "不是我要的", "不是我订的", "颜色不对", "型号不对",
            "少发", "漏发", "少了", "缺少", "缺了", "少一个", "不全", "不完整",
        ),
        "not_as_described": (
            "与描述不符", "描述不符", "和描述不符", "与图片不符", "和图片不一样", "图片不符", "与图片不一样",
            "跟图片不一样", "货不对板", "色差", "实物不符", "假货", "假的", "山寨", "仿冒", "高仿",
            "不是正品", "非正品", "二手", "用过的", "虚假宣传", "不一样",
        ),
        "quality": (
            "质量差", "质量不好", "质量太差", "质量很差", "质量一般", "做工差", "做工粗糙", "粗糙", "劣质",
            "次品", "瑕疵", "有问题", "不能用", "用不了", "不好用", "坏了", "失灵", "故障", "不工作",
            "没法用", "掉色", "起球", "开线", "容易坏", "垃圾",
        ),
        "size_fit": (
            "尺码", "尺寸不对", "太小", "太大", "偏小", "偏大", "小了", "大了", "不合身", "穿不上", "太紧",
            "太松", "码数",
        ),
        "service": (
            "客服态度差", "客服不理", "客服不回", "不回复", "没人回复", "不理人", "态度差", "态度恶劣",
            "退款", "不给退", "退货难", "拒绝退", "取消订单", "缺货", "发票", "服务差", "服务太差", "没人管",
        ),
        "positive": (
            "好评", "满意", "很好", "非常好", "不错", "推荐", "喜欢", "很快", "速度快", "物流快", "准时",
            "按时", "包装好", "质量好", "质量不错", "正品", "值得", "好用", "完美", "谢谢", "客服很好",
        ),
        NEUTRAL: (
            "不满意", "不推荐", "不喜欢", "不慢", "尺码合适", "尺码正好", "大小合适", "大小正好",
        ),
    },
    "ja": {
        "late": (
            "遅い", "遅れ", "遅れる", "遅延", "届かない", "届きません", "届いていない", "届いてない",
            "まだ届く", "未着", "到着しない", "来ない", "時間がかかる", "待たされる", "届くのが遅い", "紛失",
        ),
        "damaged": (
            "破損", "壊れる", "割れる", "傷", "キズ", "へこみ", "凹み", "潰れる", "つぶれる", "梱包が雑",
            "梱包がひどい", "液漏れ", "汚れ", "汚れる",
        ),
        "wrong_item": (
            "違う商品", "別の商品", "間違った商品", "商品が違う", "注文と違う", "誤配送", "入っていない",
            "入ってない", "足りない", "不足", "欠品", "付属品がない", "部品が足りない",
        ),
        "not_as_described": (
            "説明と違う", "写真と違う", "画像と違う", "説明と異なる", "写真と異なる", "イメージと違う",
            "偽物", "コピー品", "正規品ではない", "中古", "使用済み", "誇大広告", "記載と違う", "色が違う",
        ),
        "quality": (
            "品質が悪い", "質が悪い", "品質が低い", "安っぽい", "粗悪", "不良品", "不良", "初期不良", "欠陥",
            "動かない", "作動しない", "使えない", "すぐ壊れる", "壊れやすい", "故障", "ほつれ", "ほつれる",
            "色落ち", "作りが雑", "チープ",
        ),
        "size_fit": (
            "サイズが合わない", "サイズ", "小さすぎる", "大きすぎる", "小さい", "大きい", "きつい", "ゆるい",
            "短い", "入らない",
        ),
        "service": (
            "対応が悪い", "対応が遅い", "返信がない", "返信なし", "連絡がない", "連絡なし", "返事がない",
            "返金", "キャンセル", "在庫切れ", "在庫なし", "領収書", "不親切", "無視",
        ),
        "positive": (
            "満足", "良い", "よい", "素晴らしい", "最高", "おすすめ", "オススメ", "ありがとう", "早い",
            "迅速", "丁寧", "問題なし", "問題ない", "気に入る", "綺麗",
        ),
        NEUTRAL: (
            "満足できない", "不満", "サイズぴったり", "ちょうどいい", "良くない", "よくない",
        ),
    },
}
# fmt: on

#: Return reason codes of the Amazon returns reports (``Return Reason``) that do not read as words.
#: Codes are compared in upper case with spaces as underscores (``not_as_described`` is
#: ``NOT_AS_DESCRIBED``); a code not listed here is matched as English text, its underscores read as
#: spaces (``DAMAGED_BY_CARRIER`` → "damaged by carrier").
RETURN_CODES: dict[str, str] = {
    "SWITCHEROO": "wrong_item",
    "MISSING_PARTS": "wrong_item",
    "EXTRA_ITEM": "wrong_item",
    "MISSED_ESTIMATED_DELIVERY": "late",
    "NEVER_ARRIVED": "late",
    "UNDELIVERABLE_UNKNOWN": "late",
    "DEFECTIVE": "quality",
    "QUALITY_UNACCEPTABLE": "quality",
    "DAMAGED_BY_CARRIER": "damaged",
    "DAMAGED_BY_FC": "damaged",
    "APPAREL_TOO_SMALL": "size_fit",
    "APPAREL_TOO_LARGE": "size_fit",
    "NOT_AS_DESCRIBED": "not_as_described",
    "AMZ-PG-BAD-DESC": "not_as_described",
    "AMZ-PG-APP-TOO-SMALL": "size_fit",
    "AMZ-PG-APP-TOO-LARGE": "size_fit",
    "AMZ-PG-BAD-FUNC": "quality",
    # the reasons of cxops' demo generator (cxops.synth)
    "DAMAGED": "damaged",
    "WRONG_ITEM": "wrong_item",
    "ARRIVED_LATE": "late",
    "NO_LONGER_NEEDED": "other",
    "ORDERED_BY_MISTAKE": "other",
    "BETTER_PRICE": "other",
    "UNWANTED_GIFT": "other",
    # the buyer's own doing, not the seller's: no theme
    "CUSTOMER_DAMAGED": "other",
    "ORDERED_WRONG_ITEM": "other",
    "AMZ-PG-MISORDERED": "other",
    "UNWANTED_ITEM": "other",
    "FOUND_BETTER_PRICE": "other",
    "NO_REASON_GIVEN": "other",
    "UNAUTHORIZED_PURCHASE": "other",
}
